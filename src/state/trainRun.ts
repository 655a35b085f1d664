/**
 * A training run as the Train step shows it, and how each TrainProgress event changes it. Pure: the store applies
 * these, the tests check them directly.
 */
import type { TrainProgress, TrainStage } from '../dreambooth/jobTypes';
import type { GenerationBackend } from '../generation/jobTypes';
import type { RunLog } from '../storage/dreamboothRecords';

export type RunStatus = 'starting' | 'running' | 'pausing' | 'cancelling' | 'paused' | 'finished' | 'cancelled' | 'failed';

/** The loss curve: one point per optimizer step, raw and smoothed, in parallel arrays (what the chart draws). */
export interface LossSeries {
  steps: number[];
  raw: number[];
  smoothed: number[];
}

export interface ValidationRow {
  step: number;
  images: { prompt: string; seed: number; url: string }[];
}

export interface TrainRun {
  subjectId: string;
  status: RunStatus;
  /** Continued from a checkpoint rather than from the base model. */
  resumed: boolean;
  stage: TrainStage | null;
  stageMessage: string;
  /** When the current stage began (Date.now()): stages without steps show the time so far. */
  stageSince: number;
  backend: GenerationBackend | null;
  step: number;
  totalSteps: number;
  msPerStep: number | null;
  etaMs: number | null;
  learningRate: number | null;
  loss: LossSeries;
  validations: ValidationRow[];
  /** The loss on the run's fixed batch: at the start and at each checkpoint (TrainProgress 'fit'). */
  fit: { step: number; loss: number }[];
  /** The step of the newest checkpoint this run saved. */
  lastCheckpointStep: number | null;
}

/** Weight of the history in the smoothed loss (TensorBoard's default 0.6 is too jumpy for batch-size-1 DreamBooth). */
export const LOSS_SMOOTHING = 0.9;

export function newRun(subjectId: string, totalSteps: number, resumed: boolean, now: number): TrainRun {
  return {
    subjectId,
    status: 'starting',
    resumed,
    stage: null,
    stageMessage: 'Starting',
    stageSince: now,
    backend: null,
    step: 0,
    totalSteps,
    msPerStep: null,
    etaMs: null,
    learningRate: null,
    loss: { steps: [], raw: [], smoothed: [] },
    validations: [],
    fit: [],
    lastCheckpointStep: null,
  };
}

/**
 * Exponential moving average with bias correction (as Adam's moments): the first points are not dragged towards 0.
 * `previous` is the uncorrected average; returns both.
 */
export function smoothLoss(previousEma: number, count: number, loss: number): { ema: number; value: number } {
  const ema = LOSS_SMOOTHING * previousEma + (1 - LOSS_SMOOTHING) * loss;
  return { ema, value: ema / (1 - LOSS_SMOOTHING ** count) };
}

/**
 * The run after one progress event. `toUrl` makes an object URL of a validation PNG (the store owns and revokes
 * them). Pausing or cancelling stays as it is while the last steps arrive.
 */
export function applyProgress(run: TrainRun, progress: TrainProgress, now: number, toUrl: (png: ArrayBuffer) => string, emaState: { ema: number }): TrainRun {
  const status = run.status === 'starting' ? 'running' : run.status;
  switch (progress.kind) {
    case 'stage':
      return {
        ...run,
        status,
        stage: progress.stage,
        stageMessage: progress.message,
        stageSince: progress.stage === run.stage ? run.stageSince : now,
        backend: progress.backend ?? run.backend,
      };
    case 'step': {
      const count = run.loss.steps.length + 1;
      const { ema, value } = smoothLoss(emaState.ema, count, progress.loss);
      emaState.ema = ema;
      return {
        ...run,
        status,
        stage: 'training',
        stageSince: run.stage === 'training' ? run.stageSince : now,
        step: progress.step,
        totalSteps: progress.totalSteps,
        msPerStep: progress.msPerStep,
        etaMs: progress.etaMs,
        learningRate: progress.learningRate,
        loss: {
          steps: [...run.loss.steps, progress.step],
          raw: [...run.loss.raw, progress.loss],
          smoothed: [...run.loss.smoothed, value],
        },
      };
    }
    case 'validation':
      return {
        ...run,
        status,
        validations: [
          ...run.validations.filter((row) => row.step !== progress.step),
          { step: progress.step, images: progress.images.map((image) => ({ prompt: image.prompt, seed: image.seed, url: toUrl(image.png) })) },
        ],
      };
    case 'fit':
      return { ...run, status, fit: [...run.fit.filter((f) => f.step !== progress.step), { step: progress.step, loss: progress.loss }] };
    case 'checkpoint':
      return { ...run, status, lastCheckpointStep: progress.checkpoint.step };
  }
}

/** Raw and smoothed series of loss points, and the moving average's state to continue it. */
function lossSeries(points: readonly { step: number; loss: number }[]): { loss: LossSeries; ema: number } {
  const loss: LossSeries = { steps: [], raw: [], smoothed: [] };
  let ema = 0;
  points.forEach((p, i) => {
    const next = smoothLoss(ema, i + 1, p.loss);
    ema = next.ema;
    loss.steps.push(p.step);
    loss.raw.push(p.loss);
    loss.smoothed.push(next.value);
  });
  return { loss, ema };
}

/** A run as the worker's log saved it with its newest checkpoint: what a reload shows (paused or finished). */
export function runFromLog(log: RunLog, now: number, toUrl: (png: Blob) => string): TrainRun {
  const { loss } = lossSeries(log.loss);
  return {
    ...newRun(log.subjectId, log.totalSteps, false, now),
    status: log.step >= log.totalSteps ? 'finished' : 'paused',
    stage: null,
    stageMessage: log.step >= log.totalSteps ? 'Finished' : `Paused at step ${log.step}`,
    step: log.step,
    loss,
    validations: log.validations.map((v) => ({ step: v.step, images: v.images.map((i) => ({ prompt: i.prompt, seed: i.seed, url: toUrl(i.png) })) })),
    fit: log.fit ?? [],
    lastCheckpointStep: log.step,
  };
}

/**
 * A resumed run's starting view: `previous`'s loss curve and preview rows up to the checkpoint it resumes from, and
 * the moving average's state to continue the smoothed curve. The rows dropped are returned so their URLs can go.
 */
export function continueRun(previous: TrainRun, fresh: TrainRun, fromStep: number): { run: TrainRun; ema: number; dropped: ValidationRow[] } {
  const kept = previous.loss.steps.flatMap((step, i) => (step <= fromStep ? [{ step, loss: previous.loss.raw[i]! }] : []));
  const { loss, ema } = lossSeries(kept);
  const validations = previous.validations.filter((v) => v.step <= fromStep);
  const fit = previous.fit.filter((f) => f.step <= fromStep);
  return { run: { ...fresh, loss, validations, fit, step: fromStep }, ema, dropped: previous.validations.filter((v) => v.step > fromStep) };
}

/** "about 12 s left", "about 3 min left", "about 1 h 20 min left". */
export function etaText(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 90) return `about ${seconds} s left`;
  const minutes = Math.round(seconds / 60);
  return minutes < 90 ? `about ${minutes} min left` : `about ${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

/** Steps per second for a time per step, e.g. "3.6 steps/s" or "0.12 steps/s". */
export function stepsPerSecondText(msPerStep: number): string {
  const rate = 1000 / msPerStep;
  return `${rate >= 10 ? rate.toFixed(0) : rate >= 1 ? rate.toFixed(1) : rate.toPrecision(2)} steps/s`;
}
