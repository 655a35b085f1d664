import type { UseStore } from 'idb-keyval';
import { create } from 'zustand';
import type { CheckpointInfo, TrainResult } from '../dreambooth/jobTypes';
import { DEFAULT_PRESET, PRESETS, presetSettings, type PresetId, type TrainSettings } from '../dreambooth/trainSettings';
import type { BackendPreference, GenerationBackend } from '../generation/jobTypes';
import { JobError } from '../protocol/jobs';
import { deleteCheckpoints, listCheckpoints, loadRunLog, storageEstimate } from '../storage/dreamboothRecords';
import type { Subject } from '../subjects/subject';
import type { StudioClient } from '../worker/studioWorker';
import { explainTrainFailure, type TrainFailure } from './trainErrors';
import { checkTrainForm, formFromSettings, matchingPreset, type TrainField, type TrainFormValues, type TrainProblems } from './trainForm';
import { applyProgress, continueRun, newRun, runFromLog, type TrainRun } from './trainRun';

export interface TrainDeps {
  store: UseStore;
  worker: StudioClient;
  activeSubject(): Subject | undefined;
  /**
   * What the Class priors step saved for the subject: the class images it trains with (dropped ones left out) and the
   * base model it personalizes.
   */
  priorSetup(subjectId: string): Promise<{ priorKeys: string[]; baseModelId: string }>;
  backendSetting(): BackendPreference;
  /** What else runs on the page now (class priors, generation), or null: training waits for it. */
  busy?(): string | null;
  /** Remembers the chosen preset and settings across reloads (localStorage in the app). */
  storage?: Pick<Storage, 'getItem' | 'setItem'>;
  estimate?(): Promise<{ usage: number; quota: number } | null>;
  now?(): number;
}

export const TRAIN_FORM_KEY = 'dreambooth-studio/train-form';

export interface TrainState {
  /** The preset the form equals, or null when a field was changed ("Custom"). */
  presetId: PresetId | null;
  form: TrainFormValues;
  /** Every invalid field's message, checked on each change; Start waits until there are none. */
  problems: TrainProblems;
  run: TrainRun | null;
  /** How the last run ended, e.g. "Paused at step 40 of 400 …"; cleared when the next starts. */
  outcome: string | null;
  failure: TrainFailure | null;
  /** Why Start did nothing (another activity runs, no class images, too few photos). */
  refused: string | null;
  /** What the last finished or paused run reported (the backend that really ran it, timings). */
  result: (Pick<TrainResult, 'status' | 'step' | 'totalSteps' | 'timings'> & { backend: GenerationBackend }) | null;
  /** The shown subject's checkpoints, newest first. */
  checkpoints: CheckpointInfo[];
  checkpointsFor: string | null;
  checkpointError: string | null;
  storage: { usage: number; quota: number } | null;

  choosePreset(id: PresetId): void;
  setField<K extends TrainField>(key: K, value: TrainFormValues[K]): void;
  /** Lists the subject's checkpoints (the active one unless told) and the free space. */
  refreshCheckpoints(subjectId?: string): Promise<void>;
  deleteCheckpoint(id: string): Promise<void>;
  /** Starts training the active subject from the base model (or from a matching checkpoint when `resume`). */
  start(resume?: boolean): Promise<void>;
  /** Asks the run to save a checkpoint and stop; the run's promise then resolves 'paused'. */
  pause(): Promise<void>;
  /** Stops at once: the step in flight is lost, checkpoints already saved are kept. */
  cancel(): void;
}

export type TrainStore = ReturnType<typeof createTrainStore>;

const ACTIVE: ReadonlySet<string> = new Set(['starting', 'running', 'pausing', 'cancelling']);
export const isActive = (run: TrainRun | null): run is TrainRun => run !== null && ACTIVE.has(run.status);

/** The Train step: settings, the one training run (which goes on while other steps are shown), checkpoints. */
export function createTrainStore(deps: TrainDeps) {
  const now = deps.now ?? Date.now;
  const estimate = deps.estimate ?? storageEstimate;
  let controller: AbortController | null = null;
  let checkpointLoads = 0;

  const saved = readSavedForm(deps.storage);
  const initialForm = saved ?? formFromSettings(presetSettings(DEFAULT_PRESET));

  return create<TrainState>()((set, get) => {
    const revokeRun = (run: TrainRun | null) => run?.validations.forEach((row) => row.images.forEach((image) => URL.revokeObjectURL(image.url)));

    function changeForm(form: TrainFormValues) {
      const checked = checkTrainForm(form, fallbackFor(form));
      set({ form, presetId: matchingPreset(form), problems: 'problems' in checked ? checked.problems : {} });
      deps.storage?.setItem(TRAIN_FORM_KEY, JSON.stringify(form));
    }

    function showCheckpoint(checkpoint: CheckpointInfo) {
      if (get().checkpointsFor !== checkpoint.subjectId) return;
      set((s) => ({ checkpoints: [checkpoint, ...s.checkpoints.filter((c) => c.id !== checkpoint.id)].slice(0, checkpoint.settings.keepCheckpoints) }));
      void estimate().then((storage) => set({ storage }));
    }

    const checked = checkTrainForm(initialForm, fallbackFor(initialForm));
    return {
      presetId: matchingPreset(initialForm),
      form: initialForm,
      problems: 'problems' in checked ? checked.problems : {},
      run: null,
      outcome: null,
      failure: null,
      refused: null,
      result: null,
      checkpoints: [],
      checkpointsFor: null,
      checkpointError: null,
      storage: null,

      choosePreset(id) {
        changeForm(formFromSettings(presetSettings(id)));
      },

      setField(key, value) {
        changeForm({ ...get().form, [key]: value });
      },

      async refreshCheckpoints(subjectId = deps.activeSubject()?.id) {
        const load = ++checkpointLoads;
        if (!subjectId) {
          set({ checkpoints: [], checkpointsFor: null });
          return;
        }
        if (get().checkpointsFor !== subjectId) set({ checkpoints: [], checkpointsFor: subjectId, checkpointError: null });
        try {
          const [list, storage] = await Promise.all([listCheckpoints(deps.store, subjectId), estimate()]);
          if (load !== checkpointLoads) return;
          set({ checkpoints: [...list].reverse(), checkpointsFor: subjectId, storage });
          // After a reload (or on coming back to this subject) its last run's chart and previews, as saved with its
          // newest checkpoint; never over a run in progress or one this page already shows. Read only then: the log
          // holds preview images.
          const shown = get().run;
          const showsThisSubject = shown?.subjectId === subjectId;
          if (list.length === 0 || isActive(shown) || showsThisSubject) return;
          const log = await loadRunLog(deps.store, subjectId);
          if (log && load === checkpointLoads && get().run === shown) {
            revokeRun(shown);
            set({ run: runFromLog(log, now(), (png) => URL.createObjectURL(png)) });
          }
        } catch (error) {
          if (load === checkpointLoads) set({ checkpointError: `The checkpoints could not be read: ${errorText(error)}` });
        }
      },

      async deleteCheckpoint(id) {
        const subjectId = get().checkpointsFor;
        if (!subjectId) return;
        // The running trainer may be about to resume from or prune this very list; deleting under it would race.
        if (isActive(get().run) && get().run?.subjectId === subjectId) {
          set({ checkpointError: 'Checkpoints cannot be deleted while this subject trains. Pause or cancel first.' });
          return;
        }
        try {
          await deleteCheckpoints(deps.store, subjectId, [id]);
          set({ checkpointError: null });
        } catch (error) {
          set({ checkpointError: `The checkpoint was not deleted: ${errorText(error)}` });
        }
        await get().refreshCheckpoints(subjectId);
      },

      async start(resume = false) {
        if (controller) return;
        const subject = deps.activeSubject();
        const form = checkTrainForm(get().form, fallbackFor(get().form));
        const refuse = (refused: string) => set({ refused });
        if (!subject) return refuse('Create a subject first (step 1: Subject), then train it.');
        if ('problems' in form) return set({ problems: form.problems, refused: 'Fix the settings marked under Advanced settings first.' });
        const busy = deps.busy?.();
        if (busy) return refuse(`${busy} Training starts once it is done (or cancel it).`);
        const { settings } = form;
        const setup = await deps.priorSetup(subject.id);
        const priorKeys = settings.priorLossWeight > 0 ? setup.priorKeys : [];
        if (settings.priorLossWeight > 0 && priorKeys.length === 0) {
          return refuse(
            'There are no class images for this subject yet. Make them on step 2 (Class priors), or set the prior loss weight to 0 under Advanced settings to train without them.',
          );
        }
        if (controller) return; // a second click while the class images were read

        const own = new AbortController();
        controller = own;
        const ema = { ema: 0 };
        const previous = get().run;
        const fresh = newRun(subject.id, settings.steps, resume, now());
        const from = get().checkpointsFor === subject.id ? get().checkpoints[0]?.step : undefined;
        let run = fresh;
        if (resume && previous?.subjectId === subject.id && from !== undefined) {
          // The resumed run goes on from the checkpoint: its chart and previews up to there stay.
          const carried = continueRun(previous, fresh, from);
          carried.dropped.forEach((row) => row.images.forEach((image) => URL.revokeObjectURL(image.url)));
          [run, ema.ema] = [carried.run, carried.ema];
        } else revokeRun(previous);
        set({ run, outcome: null, failure: null, refused: null, result: null });
        if (get().checkpointsFor !== subject.id) void get().refreshCheckpoints(subject.id);
        const toUrl = (png: ArrayBuffer) => URL.createObjectURL(new Blob([png], { type: 'image/png' }));
        try {
          const result = await deps.worker.request(
            'train',
            { subjectId: subject.id, settings, priorKeys, resume, modelId: setup.baseModelId, backend: deps.backendSetting() },
            {
              signal: own.signal,
              onProgress: (progress) => {
                const run = get().run;
                if (!run || controller !== own) return;
                set({ run: applyProgress(run, progress, now(), toUrl, ema) });
                if (progress.kind === 'checkpoint') showCheckpoint(progress.checkpoint);
              },
            },
          );
          const { status, step, totalSteps, timings, backend, checkpoint } = result;
          set((s) => ({
            run: s.run && { ...s.run, status, step, totalSteps, backend, lastCheckpointStep: checkpoint.step, etaMs: status === 'finished' ? 0 : s.run.etaMs },
            result: { status, step, totalSteps, timings, backend },
            outcome:
              status === 'finished'
                ? `Finished: ${totalSteps} steps. The checkpoint at step ${checkpoint.step} is ready: “Generate with it” under Checkpoints, or pick it on the Generate step.`
                : `Paused at step ${step} of ${totalSteps}; a checkpoint was saved. Resume continues from here, also after a reload.`,
          }));
          showCheckpoint(checkpoint);
        } catch (error) {
          const run = get().run;
          if (error instanceof JobError && error.code === 'cancelled') {
            const kept = run?.lastCheckpointStep ?? get().checkpoints[0]?.step;
            set({
              run: run && { ...run, status: 'cancelled' },
              outcome: `Cancelled at step ${run?.step ?? 0} of ${run?.totalSteps ?? settings.steps}.${kept !== undefined && kept !== null ? ` The checkpoint at step ${kept} is kept; Resume continues from it.` : ' No checkpoint had been saved yet.'}`,
            });
          } else {
            set({ run: run && { ...run, status: 'failed' }, failure: explainTrainFailure(error) });
          }
          void get().refreshCheckpoints(subject.id);
        } finally {
          if (controller === own) controller = null;
        }
      },

      async pause() {
        const run = get().run;
        if (!isActive(run) || run.status === 'pausing' || run.status === 'cancelling') return;
        set({ run: { ...run, status: 'pausing' }, refused: null });
        try {
          const { paused } = await deps.worker.request('pauseTraining', { subjectId: run.subjectId });
          // Not paused: the run has ended (its result is on its way), or the worker has not begun it yet — then it
          // goes on, and Pause can be pressed again.
          if (!paused && controller && get().run?.status === 'pausing') {
            set((s) => ({
              run: s.run && { ...s.run, status: 'running' },
              refused: 'The run could not be paused yet (it is still starting). Try again in a moment, or Cancel.',
            }));
          }
        } catch (error) {
          // The pause request itself failed; the run goes on, and says so.
          set((s) => ({
            run: s.run && s.run.status === 'pausing' ? { ...s.run, status: 'running' } : s.run,
            refused: `Pausing did not work: ${errorText(error)}. Cancel stops the run at once.`,
          }));
        }
      },

      cancel() {
        if (!controller) return;
        set((s) => ({ run: s.run && { ...s.run, status: 'cancelling' } }));
        controller.abort();
      },
    };
  });
}

/** The values a bad field is checked against: the preset the form was made from, else the default preset. */
function fallbackFor(form: TrainFormValues): TrainSettings {
  return presetSettings(matchingPreset(form) ?? DEFAULT_PRESET);
}

/** The saved form, when it still has exactly the fields of today's settings (an older version's is dropped). */
function readSavedForm(storage: TrainDeps['storage']): TrainFormValues | null {
  try {
    const raw = storage?.getItem(TRAIN_FORM_KEY);
    if (!raw) return null;
    const value = JSON.parse(raw) as Record<string, unknown>;
    const fields = Object.keys(PRESETS[0]!.settings);
    const sameShape = fields.length === Object.keys(value).length && fields.every((k) => k in value);
    return sameShape ? (value as unknown as TrainFormValues) : null;
  } catch {
    return null;
  }
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
