import { create } from 'zustand';
import type { GenerateDefaults } from '../generation/batchAdapter';
import type {
  BackendPreference,
  GenerateProgress,
  GenerateRequest,
  GenerateResult,
  GenerationBackend,
  GenerationTimings,
  GenerationUsage,
  LoadedModel,
} from '../generation/jobTypes';
import { JobError } from '../protocol/jobs';
import type { GalleryItem } from '../storage/galleryRecords';
import type { StudioClient } from '../worker/studioWorker';
import { explainGenerateFailure, type GenerateFailure } from './generateErrors';
import {
  checkGenerateForm,
  DEFAULT_FORM,
  formFromParams,
  randomSeed,
  type GenerateFormValues,
  type GenerateProblems,
  type GenerateSettings,
} from './generateForm';
import type { GalleryStore } from './galleryStore';

/** The base model: the app's own small SD configuration. A checkpoint is picked by its `checkpointModelId`. */
export const MODEL_ID = 'builtin';

/** The model images are rendered with: the base model, a trained checkpoint or an imported model. */
export interface ModelChoice {
  modelId: string;
  /** "Base model", or "<subject name> · step N" for a checkpoint. */
  label: string;
}

export const BASE_MODEL: ModelChoice = { modelId: MODEL_ID, label: 'Base model' };

/** A generation in flight, as the run panel shows it. */
export interface RunProgress extends Pick<GenerateProgress, 'stage' | 'step' | 'totalSteps' | 'imageIndex' | 'imageCount' | 'numImages'> {
  /** What runs, e.g. "2 images" or "batch line 4 (dog-beach)". */
  label: string;
  /** Share of the whole request done, 0–1. */
  fraction: number;
  etaMs: number | null;
  /** When the current stage began (Date.now()): long stages without an ETA show the time so far. */
  stageSince: number;
  /** Object URLs of the latest x0 previews, one per image of the batch being denoised. */
  previewUrls: string[];
  cancelling: boolean;
}

/** The images of the last finished run, shown in the run panel until the next one. */
export interface LastRun {
  label: string;
  prompt: string;
  images: { url: string; seed: number }[];
  backend: GenerationBackend;
  usage: GenerationUsage;
  timings: GenerationTimings;
  untrained: boolean;
  /** False when the gallery could not store them (its notice says why); the images can still be downloaded. */
  saved: boolean;
}

export interface ModelStatus {
  status: 'idle' | 'loading' | 'ready' | 'failed';
  /** When the current load began (Date.now()), while loading. */
  since?: number;
  info: LoadedModel | null;
  failure: GenerateFailure | null;
}

export interface ExecuteOptions {
  label: string;
  /** Aborting it cancels the run (a batch's cancel). */
  signal?: AbortSignal;
  /** Stored with the gallery items of a batch line. */
  customId?: string;
}

export interface GenerateState {
  form: GenerateFormValues;
  problems: GenerateProblems;
  model: ModelStatus;
  running: RunProgress | null;
  lastRun: LastRun | null;
  /** Why the last run failed, with the fix; cleared when the next one starts. */
  failure: GenerateFailure | null;
  /** What happened to a run that did not finish, e.g. "Cancelled generating 1 image at step 2 of 4; nothing was saved." */
  stopped: string | null;
  /** The first seed of the last finished run ("reuse last seed"). */
  lastSeed: number | null;
  /** The model every request of this step renders with (form, batch lines, recontextualization grid). */
  chosenModel: ModelChoice;

  setField<K extends keyof GenerateFormValues>(key: K, value: GenerateFormValues[K]): void;
  /** Renders with another model from now on; a checkpoint also puts its instance prompt into the form. */
  chooseModel(choice: ModelChoice, prompt?: string): void;
  /** Fixes the seed to a freshly drawn one (the dice), so a good result can be made again. */
  rollSeed(): void;
  reuseLastSeed(): void;
  /** Fills the form with a gallery image's settings, seed fixed, so Generate makes it again. */
  fillFrom(item: GalleryItem): void;
  /** Prepares the model on the current backend setting; a later call supersedes one still loading. */
  loadModel(): Promise<void>;
  /** The backend setting changed: frees the sessions compiled for the old one and prepares the model again. */
  switchBackend(): Promise<void>;
  /** Checks the form and runs it; problems show beside their fields and nothing runs. */
  generate(): Promise<void>;
  /** Runs one request, showing progress and previews and saving the images to the gallery. Rejects when it fails or is cancelled. */
  execute(request: GenerateRequest, options: ExecuteOptions): Promise<GenerateResult>;
  cancel(): void;
  /** Settings a batch line leaves out, from the form; null (and problems shown) when the form is invalid. Seed null: random. */
  batchDefaults(): (Omit<GenerateDefaults, 'seed'> & { seed: number | null }) | null;
}

export type GenerateStore = ReturnType<typeof createGenerateStore>;

/** The Generate step's settings and its one running job; heavy work happens in the worker. */
export function createGenerateStore(deps: {
  worker: StudioClient;
  gallery: GalleryStore;
  backendSetting(): BackendPreference;
  /** What else runs on the page now (training, class images), or null: generation waits for it. */
  busy?(): string | null;
}) {
  let controller: AbortController | null = null;
  let modelLoads = 0;

  return create<GenerateState>()((set, get) => {
    const revoke = (urls: readonly string[]) => urls.forEach((url) => URL.revokeObjectURL(url));

    function showProgress(progress: GenerateProgress) {
      const current = get().running;
      if (!current) return;
      const previewUrls = progress.previewPngs?.map((png) => URL.createObjectURL(new Blob([png], { type: 'image/png' })));
      if (previewUrls) revoke(current.previewUrls);
      const done = progress.imageIndex + (progress.totalSteps > 0 ? (progress.imageCount * progress.step) / progress.totalSteps : 0);
      set({
        running: {
          ...current,
          stage: progress.stage,
          stageSince: progress.stage === current.stage ? current.stageSince : Date.now(),
          step: progress.step,
          totalSteps: progress.totalSteps,
          imageIndex: progress.imageIndex,
          imageCount: progress.imageCount,
          numImages: progress.numImages,
          fraction: progress.numImages > 0 ? Math.min(1, done / progress.numImages) : 0,
          etaMs: progress.etaMs ?? current.etaMs,
          previewUrls: previewUrls ?? current.previewUrls,
        },
      });
    }

    async function keep(result: GenerateResult, request: GenerateRequest, options: ExecuteOptions): Promise<LastRun> {
      const share = result.images.length;
      const chosen = get().chosenModel;
      const label = request.modelId === chosen.modelId && chosen.modelId !== MODEL_ID ? chosen.label : undefined;
      const saved = await deps.gallery.getState().addImages(
        result.images.map((image) => ({
          png: new Uint8Array(image.png),
          params: {
            prompt: request.prompt,
            negativePrompt: request.negativePrompt ?? '',
            sampler: request.sampler,
            steps: request.steps,
            guidanceScale: request.guidanceScale,
            seed: image.seed,
            width: result.width,
            height: result.height,
          },
          // The model asked for (a checkpoint id), with its label: the gallery names it even once the checkpoint is deleted.
          model: { id: request.modelId ?? result.modelId, untrained: result.untrained, ...(label ? { label } : {}) },
          backend: result.backend,
          // Images of one request are denoised together; each carries an equal share of the cost.
          usage: { unetEvaluations: result.usage.unetEvaluations / share, modelMs: result.usage.modelMs / share },
          ...(options.customId !== undefined ? { customId: options.customId } : {}),
        })),
      );
      return {
        label: options.label,
        prompt: request.prompt,
        images: result.images.map((image) => ({
          url: URL.createObjectURL(new Blob([image.png], { type: 'image/png' })),
          seed: image.seed,
        })),
        backend: result.backend,
        usage: result.usage,
        timings: result.timings,
        untrained: result.untrained,
        saved: saved !== null,
      };
    }

    return {
      form: DEFAULT_FORM,
      problems: {},
      model: { status: 'idle', info: null, failure: null },
      running: null,
      lastRun: null,
      failure: null,
      stopped: null,
      lastSeed: null,
      chosenModel: BASE_MODEL,

      chooseModel(choice, prompt) {
        set((s) => ({ chosenModel: choice, ...(prompt !== undefined ? { form: { ...s.form, prompt }, problems: { ...s.problems, prompt: undefined } } : {}) }));
      },

      setField(key, value) {
        // Choosing "Random each time" leaves no seed to be wrong: its problem goes with it.
        const cleared = key === 'seedMode' ? { [key]: undefined, seed: undefined } : { [key]: undefined };
        set((s) => ({ form: { ...s.form, [key]: value }, problems: { ...s.problems, ...cleared } }));
      },

      rollSeed() {
        set((s) => ({ form: { ...s.form, seedMode: 'fixed', seed: String(randomSeed()) }, problems: { ...s.problems, seed: undefined } }));
      },

      reuseLastSeed() {
        const seed = get().lastSeed;
        if (seed === null) return;
        set((s) => ({ form: { ...s.form, seedMode: 'fixed', seed: String(seed) }, problems: { ...s.problems, seed: undefined } }));
      },

      fillFrom(item) {
        set({ form: formFromParams(item.params), problems: {} });
      },

      async loadModel() {
        const load = ++modelLoads;
        set((s) => ({ model: { ...s.model, status: 'loading', since: s.model.since ?? Date.now(), failure: null } }));
        try {
          const info = await deps.worker.request('loadModel', { modelId: MODEL_ID, backend: deps.backendSetting() });
          if (load === modelLoads) set({ model: { status: 'ready', info, failure: null } });
        } catch (error) {
          if (load === modelLoads) set((s) => ({ model: { status: 'failed', info: s.model.info, failure: explainGenerateFailure(error) } }));
        }
      },

      async switchBackend() {
        if (get().model.status === 'idle') return;
        set({ model: { status: 'loading', since: Date.now(), info: null, failure: null } });
        await deps.worker.request('unloadModels', undefined).catch(() => undefined);
        await get().loadModel();
      },

      async generate() {
        if (get().running) return;
        const checked = checkGenerateForm(get().form);
        if ('problems' in checked) {
          set({ problems: checked.problems });
          return;
        }
        set({ problems: {} });
        const request = requestFrom(checked.settings, checked.settings.seed ?? randomSeed(), deps.backendSetting(), get().chosenModel.modelId);
        const count = request.numImages;
        await get()
          .execute(request, { label: count === 1 ? '1 image' : `${count} images` })
          .catch(() => undefined); // shown in `failure` / `stopped`
      },

      async execute(request, options) {
        if (controller) throw new Error('a generation is already running');
        const busy = deps.busy?.();
        if (busy) {
          // One activity at a time: the worker's device is busy, and a run now would only slow both down.
          set({
            failure: { reason: busy, fix: 'Generate once it is done, or pause it on the Train step (training resumes from its checkpoint).' },
            stopped: null,
          });
          throw new JobError('failed', busy);
        }
        const own = new AbortController();
        controller = own;
        const stop = () => own.abort();
        options.signal?.addEventListener('abort', stop, { once: true });
        if (options.signal?.aborted) own.abort();
        set({
          failure: null,
          stopped: null,
          running: {
            label: options.label,
            stage: 'loading-model',
            step: 0,
            totalSteps: request.steps,
            imageIndex: 0,
            imageCount: request.numImages,
            numImages: request.numImages,
            fraction: 0,
            etaMs: null,
            stageSince: Date.now(),
            previewUrls: [],
            cancelling: false,
          },
        });
        try {
          const result = await deps.worker.request('generate', request, { signal: own.signal, onProgress: showProgress });
          // A cancel that raced the last message still means "do not keep these".
          if (own.signal.aborted) throw new JobError('cancelled', 'generate was cancelled');
          const lastRun = await keep(result, request, options);
          revoke(get().lastRun?.images.map((image) => image.url) ?? []);
          set((s) => ({
            lastRun,
            lastSeed: result.seeds[0] ?? s.lastSeed,
            model: s.model.info ? { ...s.model, info: { ...s.model.info, untrained: result.untrained, backend: result.backend } } : s.model,
          }));
          return result;
        } catch (error) {
          if (error instanceof JobError && error.code === 'cancelled') {
            const at = get().running;
            const where = at && at.stage === 'denoising' ? ` at step ${at.step} of ${at.totalSteps}` : '';
            set({ stopped: `Cancelled generating ${options.label}${where}; nothing was saved.` });
          } else {
            set({ failure: explainGenerateFailure(error) });
          }
          throw error;
        } finally {
          options.signal?.removeEventListener('abort', stop);
          controller = null;
          revoke(get().running?.previewUrls ?? []);
          set({ running: null });
        }
      },

      cancel() {
        if (!controller) return;
        controller.abort();
        set((s) => ({ running: s.running && { ...s.running, cancelling: true } }));
      },

      batchDefaults() {
        const checked = checkGenerateForm(get().form);
        if ('problems' in checked) {
          set({ problems: checked.problems });
          return null;
        }
        const { negativePrompt, sampler, steps, guidanceScale, seed, numImages } = checked.settings;
        return { modelId: get().chosenModel.modelId, negativePrompt, sampler, steps, guidanceScale, seed, numImages, backend: deps.backendSetting() };
      },
    };
  });
}

/** The `generate` payload for checked settings. Previews come about twenty times per run, at most every step. */
function requestFrom(settings: GenerateSettings, seed: number, backend: BackendPreference, modelId: string): GenerateRequest {
  return {
    modelId,
    backend,
    prompt: settings.prompt,
    negativePrompt: settings.negativePrompt,
    sampler: settings.sampler,
    steps: settings.steps,
    guidanceScale: settings.guidanceScale,
    seed,
    numImages: settings.numImages,
    previewEvery: previewInterval(settings.steps),
  };
}

export const previewInterval = (steps: number) => Math.max(1, Math.ceil(steps / 20));
