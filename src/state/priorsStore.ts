import type { UseStore } from 'idb-keyval';
import { create } from 'zustand';
import type { PriorsProgress } from '../dreambooth/jobTypes';
import type { BackendPreference, GenerationBackend } from '../generation/jobTypes';
import { JobError } from '../protocol/jobs';
import { getPriors, loadPriorSelection, putPrior, savePriorSelection, type PriorRecord, type PriorSelection } from '../storage/dreamboothRecords';
import { StorageFullError } from '../storage/studioDb';
import { checkFileByteSize } from '../subjects/imageRules';
import type { Subject } from '../subjects/subject';
import type { StudioClient } from '../worker/studioWorker';
import { explainGenerateFailure, type GenerateFailure } from './generateErrors';
import { MODEL_ID } from './generateStore';
import { notice, type Notice } from './notices';
import { checkPriorsForm, formFromPriorsSettings, type PriorsField, type PriorsFormValues, type PriorsProblems, type PriorsSettings } from './priorsForm';

export interface PriorsDeps {
  store: UseStore;
  worker: StudioClient;
  activeSubject(): Subject | undefined;
  backendSetting(): BackendPreference;
  /** Settings for a subject without class images yet: the chosen training preset's count and sampling. */
  defaults(): PriorsSettings;
  /** What else runs on the page now (training, generation), or null: class images wait for it. */
  busy?(): string | null;
  /** Side of the square crop the model trains on (own class photos are cropped like subject photos). */
  resolution: number;
  now?(): number;
}

/** One class image in the grid. */
export interface PriorImage {
  key: string;
  url: string;
  source: 'generated' | 'own';
  /** Found already made by an earlier run (same model, prompt, seed and settings) rather than made now. */
  reused: boolean;
  /** Left out of training (the person dropped it); kept in the grid so it can be taken back. */
  dropped: boolean;
}

export interface PriorsRunProgress {
  subjectId: string;
  done: number;
  total: number;
  reused: number;
  etaMs: number | null;
  startedAt: number;
  backend: GenerationBackend | null;
  cancelling: boolean;
}

export interface PriorsState {
  /** The subject whose class images are shown. */
  subjectId: string | null;
  /**
   * The model the subject is personalized from ('builtin' or an imported diffusers folder): it makes the class images
   * and Train trains it. Saved with the subject's class-image selection.
   */
  baseModelId: string;
  /** The class noun the shown images are of ("a photo of <classNoun>"). */
  classNoun: string;
  /** Set when the subject's class noun changed since its class images were made: they show the old class. */
  staleClass: string | null;
  form: PriorsFormValues;
  problems: PriorsProblems;
  images: PriorImage[];
  loaded: boolean;
  loadError: string | null;
  /** Keys in the saved selection whose images are gone from storage (site data cleared). */
  missing: number;
  running: PriorsRunProgress | null;
  lastRun: { generated: number; reused: number; ms: number; backend: GenerationBackend | null } | null;
  /** How a run that did not finish ended, e.g. "Cancelled after 5 of 16 …". */
  outcome: string | null;
  failure: GenerateFailure | null;
  /** Own class photos being prepared. */
  importing: { fileName: string; remaining: number } | null;
  notices: Notice[];

  /** Shows the active subject's saved class images (or the defaults when it has none). */
  load(): Promise<void>;
  setField<K extends PriorsField>(key: K, value: PriorsFormValues[K]): void;
  /** Makes the class images in the worker (reusing what exists), filling the grid as they arrive. */
  generate(): Promise<void>;
  cancel(): void;
  /** Chooses the subject's base model; saved at once. Class images already made stay (any image of the class will do). */
  chooseBaseModel(modelId: string): Promise<void>;
  /** Drops an image from training, or takes it back; saved at once. */
  toggleDropped(key: string): Promise<void>;
  /** The person's own class photos: prepared like subject photos, stored as priors, added to the selection. */
  addOwnFiles(files: readonly File[]): Promise<void>;
  dismissNotice(id: number): void;
}

export type PriorsStore = ReturnType<typeof createPriorsStore>;

export const selectedCount = (images: readonly PriorImage[]) => images.filter((image) => !image.dropped).length;

/** Class-prior images of the active subject: the grid mirrors the saved PriorSelection and the prior records. */
export function createPriorsStore(deps: PriorsDeps) {
  const now = deps.now ?? Date.now;
  let controller: AbortController | null = null;
  let loads = 0;

  return create<PriorsState>()((set, get) => {
    const report = (n: Notice) => set((s) => ({ notices: [...s.notices, n].slice(-6) }));
    const toUrl = (png: ArrayBuffer | Blob) => URL.createObjectURL(png instanceof Blob ? png : new Blob([png], { type: 'image/png' }));
    const revoke = (images: readonly PriorImage[]) => images.forEach((image) => URL.revokeObjectURL(image.url));

    /** The selection as the grid shows it, for `subjectId`. */
    function selectionOf(
      subjectId: string,
      images: readonly PriorImage[],
      settings: PriorsSettings,
      classNoun: string,
      modelId = get().baseModelId,
    ): PriorSelection {
      return {
        subjectId,
        classNoun,
        keys: images.map((image) => image.key),
        dropped: images.filter((image) => image.dropped).map((image) => image.key),
        settings: { ...settings, modelId },
      };
    }

    /** Saves the selection; a failure is reported and leaves what was stored before. */
    async function save(selection: PriorSelection, what: string): Promise<boolean> {
      try {
        await savePriorSelection(deps.store, selection);
        return true;
      } catch (error) {
        const why = error instanceof StorageFullError ? error.message : `Saving failed: ${errorText(error)}`;
        report(notice('error', `${what} ${why}`, selection.subjectId));
        return false;
      }
    }

    /** The settings the shown grid was made with: the form when valid, else the defaults. */
    const currentSettings = (): PriorsSettings => {
      const checked = checkPriorsForm(get().form);
      return 'settings' in checked ? checked.settings : deps.defaults();
    };

    return {
      subjectId: null,
      baseModelId: MODEL_ID,
      classNoun: '',
      staleClass: null,
      form: formFromPriorsSettings(deps.defaults()),
      problems: {},
      images: [],
      loaded: false,
      loadError: null,
      missing: 0,
      running: null,
      lastRun: null,
      outcome: null,
      failure: null,
      importing: null,
      notices: [],

      async load() {
        const load = ++loads;
        const subject = deps.activeSubject();
        if (!subject) {
          revoke(get().images);
          set({ subjectId: null, baseModelId: MODEL_ID, classNoun: '', staleClass: null, images: [], loaded: true, loadError: null, missing: 0 });
          return;
        }
        try {
          const selection = await loadPriorSelection(deps.store, subject.id);
          const records = selection ? await getPriors(deps.store, selection.keys) : [];
          if (load !== loads) return;
          const dropped = new Set(selection?.dropped ?? []);
          const images = records
            .filter((record): record is PriorRecord => record !== undefined)
            .map((record) => ({ key: record.key, url: toUrl(record.png), source: record.source, reused: false, dropped: dropped.has(record.key) }));
          revoke(get().images);
          const { modelId, ...settings } = selection?.settings ?? { ...deps.defaults(), modelId: MODEL_ID };
          set({
            subjectId: subject.id,
            baseModelId: modelId,
            classNoun: subject.classNoun,
            staleClass: selection && selection.classNoun !== subject.classNoun ? selection.classNoun : null,
            form: formFromPriorsSettings({ ...settings, sampler: settings.sampler as PriorsSettings['sampler'] }),
            problems: {},
            images,
            missing: records.length - images.length,
            loaded: true,
            loadError: null,
            outcome: get().subjectId === subject.id ? get().outcome : null,
            failure: get().subjectId === subject.id ? get().failure : null,
            lastRun: get().subjectId === subject.id ? get().lastRun : null,
          });
        } catch (error) {
          if (load === loads)
            set({
              subjectId: subject.id,
              baseModelId: MODEL_ID,
              classNoun: subject.classNoun,
              loaded: true,
              loadError: `The class images could not be read: ${errorText(error)}`,
            });
        }
      },

      setField(key, value) {
        set((s) => ({ form: { ...s.form, [key]: value }, problems: { ...s.problems, [key]: undefined } }));
      },

      async generate() {
        if (controller) return;
        const subject = deps.activeSubject();
        if (!subject) {
          set({ failure: { reason: 'There is no subject yet.', fix: 'Create one on step 1 (Subject); its class noun says what to make.' } });
          return;
        }
        const checked = checkPriorsForm(get().form);
        if ('problems' in checked) {
          set({ problems: checked.problems });
          return;
        }
        const busy = deps.busy?.();
        if (busy) {
          set({ failure: { reason: busy, fix: 'Class images can be made once it is done, or after you pause or cancel it.' } });
          return;
        }
        const { settings } = checked;
        const own = new AbortController();
        controller = own; // before any await: a second click finds this run
        if (get().subjectId !== subject.id) await get().load();
        const subjectId = subject.id;
        const classNoun = subject.classNoun;
        // The subject's base model as the run starts: another subject shown meanwhile must not change what is saved.
        const modelId = get().baseModelId;
        // Dropped stays dropped when a re-run finds the same image again.
        const dropped = new Set(
          get()
            .images.filter((image) => image.dropped)
            .map((image) => image.key),
        );
        // The grid refills from the run: own photos stay, generated images come back as they are made or found.
        const kept = get().images.filter((image) => image.source === 'own');
        revoke(get().images.filter((image) => image.source !== 'own'));
        set({
          images: kept,
          staleClass: null,
          classNoun,
          outcome: null,
          failure: null,
          running: { subjectId, done: 0, total: settings.count, reused: 0, etaMs: null, startedAt: now(), backend: null, cancelling: false },
        });
        const received: PriorImage[] = [];
        const onProgress = (progress: PriorsProgress) => {
          const running = get().running;
          if (!running || controller !== own) return;
          const reusedNow = progress.reused > running.reused;
          set({
            running: {
              ...running,
              done: progress.done,
              total: progress.total,
              reused: progress.reused,
              etaMs: progress.etaMs ?? running.etaMs,
              backend: progress.backend ?? running.backend,
            },
          });
          const latest = progress.latest;
          if (!latest || received.some((image) => image.key === latest.key)) return;
          const image: PriorImage = { key: latest.key, url: toUrl(latest.png), source: 'generated', reused: reusedNow, dropped: dropped.has(latest.key) };
          received.push(image);
          if (get().subjectId === subjectId)
            set((s) => ({ images: [...s.images.filter((i) => i.source !== 'own'), image, ...s.images.filter((i) => i.source === 'own')] }));
        };
        /** Saves what the run produced: the generated images in seed order, then the own photos. */
        const keep = async (keys: readonly string[]) => {
          const byKey = new Map(received.map((image) => [image.key, image]));
          const generated = keys.map((key) => byKey.get(key) ?? { key, url: '', source: 'generated' as const, reused: true, dropped: dropped.has(key) });
          const images = [...generated, ...kept];
          await save(selectionOf(subjectId, images, settings, classNoun, modelId), 'The class-image selection was not saved.');
          if (get().subjectId === subjectId) {
            // Keys whose bytes never arrived (none in practice) are read back from storage.
            const missing = generated.filter((image) => image.url === '');
            if (missing.length > 0) {
              const records = await getPriors(
                deps.store,
                missing.map((image) => image.key),
              );
              missing.forEach((image, i) => (image.url = records[i] ? toUrl(records[i].png) : ''));
            }
            set({ images: images.filter((image) => image.url !== '') });
          }
        };
        try {
          const result = await deps.worker.request(
            'generatePriors',
            {
              classNoun,
              count: settings.count,
              seed: settings.seed,
              sampler: settings.sampler,
              steps: settings.steps,
              guidanceScale: settings.guidanceScale,
              modelId,
              backend: deps.backendSetting(),
            },
            { signal: own.signal, onProgress },
          );
          await keep(result.keys);
          set({ lastRun: { generated: result.generated, reused: result.reused, ms: result.ms, backend: result.backend } });
        } catch (error) {
          await keep(received.map((image) => image.key));
          const made = received.length;
          const total = get().running?.total ?? settings.count;
          if (error instanceof JobError && error.code === 'cancelled') {
            set({ outcome: `Cancelled after ${made} of ${total} class images. The ${made} made are kept; Generate again makes the rest and reuses these.` });
          } else {
            set({
              failure: explainGenerateFailure(error),
              outcome: made > 0 ? `${made} of ${total} class images were made before it failed; they are kept.` : null,
            });
          }
        } finally {
          if (controller === own) controller = null;
          set({ running: null });
        }
      },

      cancel() {
        if (!controller) return;
        controller.abort();
        set((s) => ({ running: s.running && { ...s.running, cancelling: true } }));
      },

      async chooseBaseModel(modelId) {
        const { subjectId, images, classNoun } = get();
        if (!subjectId || get().running || modelId === get().baseModelId) return;
        if (await save(selectionOf(subjectId, images, currentSettings(), classNoun, modelId), 'The base model was not changed.')) set({ baseModelId: modelId });
      },

      async toggleDropped(key) {
        const { subjectId, images, classNoun } = get();
        if (!subjectId || get().running) return;
        const next = images.map((image) => (image.key === key ? { ...image, dropped: !image.dropped } : image));
        if (await save(selectionOf(subjectId, next, currentSettings(), classNoun), 'The change was not saved.')) set({ images: next });
      },

      async addOwnFiles(files) {
        const subject = deps.activeSubject();
        if (!subject) {
          report(notice('error', 'Create a subject first (step 1), so the studio knows which class these photos show.'));
          return;
        }
        if (get().importing || get().running) {
          report(notice('error', 'Wait until the class images being made or added are done, then add your photos.', subject.id));
          return;
        }
        if (get().subjectId !== subject.id) await get().load();
        const added: string[] = [];
        try {
          for (const [i, file] of files.entries()) {
            set({ importing: { fileName: file.name, remaining: files.length - i } });
            const sizeProblem = checkFileByteSize(file.size);
            if (sizeProblem) {
              report(notice('error', `${file.name} ${sizeProblem}`, subject.id));
              continue;
            }
            try {
              const bytes = await file.arrayBuffer();
              const prepared = await deps.worker.request(
                'prepareImage',
                // At the base model's size when it makes larger images than the built-in model: training takes none smaller.
                { bytes, resolution: deps.resolution, thumbnailSize: deps.resolution, forModel: get().baseModelId },
                { transfer: [bytes] },
              );
              // `own-<sha256 of the file>` (ownPriorKey): the same photo added twice is one class image.
              const key = `own-${prepared.sha256}`;
              if (get().images.some((image) => image.key === key)) {
                report(notice('error', `${file.name} is already among the class images.`, subject.id));
                continue;
              }
              const png = new Blob([prepared.crop], { type: 'image/png' });
              await putPrior(deps.store, {
                key,
                png,
                prompt: `a photo of ${subject.classNoun}`,
                seed: 0,
                modelKey: 'own',
                sampler: '',
                steps: 0,
                guidanceScale: 0,
                width: prepared.cropSide,
                height: prepared.cropSide,
                createdAt: now(),
                source: 'own',
              });
              const images = [...get().images, { key, url: toUrl(png), source: 'own' as const, reused: false, dropped: false }];
              if (await save(selectionOf(subject.id, images, currentSettings(), subject.classNoun), `${file.name} was not added.`)) {
                set({ images });
                added.push(file.name);
              }
            } catch (error) {
              const text =
                error instanceof JobError && error.code === 'bad-input'
                  ? error.message
                  : error instanceof StorageFullError
                    ? `was not added. ${error.message}`
                    : `could not be added: ${errorText(error)}`;
              report(notice('error', `${file.name} ${text}`, subject.id));
            }
          }
          if (added.length > 0)
            report(notice('success', `Added ${added.length} of your own class photo${added.length === 1 ? '' : 's'}: ${added.join(', ')}.`, subject.id));
        } finally {
          set({ importing: null });
        }
      },

      dismissNotice(id) {
        set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
      },
    };
  });
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
