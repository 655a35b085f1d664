/**
 * The pretraining loop shared by both stages: runs compiled train steps on a ProgramRuntime, logs every step's
 * loss to JSONL, keeps an EMA of the weights, checkpoints every few minutes and when the process is asked to
 * stop (SIGINT/SIGTERM), and resumes from the last checkpoint. Node only.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { progressBar } from '../cli/progressBar';
import type { Feed, ProgramRuntime } from '../engine/runtime/programRuntime';
import type { ParamLayout } from '../engine/optim/flatParams';
import { STATE } from '../engine/optim/trainStep';
import { learningRateAt } from '../dreambooth/trainSettings';
import { saveCheckpoint, type Checkpoint, type RunCounters } from './checkpoint';

export interface LoopOptions {
  runtime: ProgramRuntime;
  layout: ParamLayout;
  /** Checkpoints and the log go here. */
  dir: string;
  /** Stop after this many optimizer steps in all (the run resumes towards the same total). */
  totalSteps: number;
  /** Also stop after this many minutes of this session. */
  minutes: number;
  samplesPerStep: number;
  start: RunCounters;
  ema: { decay: number; every: number; values: Float32Array } | null;
  checkpointMinutes: number;
  learningRate: (step: number) => number;
  maxGradNorm: number;
  feeds: (step: number) => Record<string, Feed>;
  settings: Record<string, unknown>;
  /** Called after each checkpoint (sample grids, validation). */
  afterCheckpoint?: (c: Checkpoint) => Promise<Record<string, unknown> | void>;
  quiet?: boolean;
}

/** diffusers' EMAModel warm-up: the decay grows with the step so early averages are not dominated by the initialisation. */
const emaDecay = (max: number, step: number) => Math.min(max, (1 + step) / (10 + step));

export async function trainLoop(o: LoopOptions): Promise<RunCounters> {
  mkdirSync(o.dir, { recursive: true });
  const log = join(o.dir, 'log.jsonl');
  let stopRequested = false;
  const onSignal = () => (stopRequested = true);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const bar = progressBar('step {value}/{total} {bar} {percentage}% | {rate} samples/s | loss {loss} | ETA {eta_formatted}');
  if (!o.quiet) bar.start(o.totalSteps, o.start.step, { rate: '-', loss: '-' });

  let { step, seconds } = o.start;
  const sessionStart = performance.now();
  let lastCheckpoint = performance.now();
  let smoothed = NaN;
  const checkpoint = async () => {
    const state = await o.runtime.exportState();
    const c: Checkpoint = { counters: { step, seconds }, state, ema: o.ema?.values ?? null, settings: o.settings };
    saveCheckpoint(o.dir, o.layout, c);
    const extra = (await o.afterCheckpoint?.(c)) ?? {};
    appendFileSync(log, `${JSON.stringify({ event: 'checkpoint', step, seconds: Math.round(seconds), ...extra })}\n`);
    lastCheckpoint = performance.now();
  };

  try {
    while (step < o.totalSteps && !stopRequested && performance.now() - sessionStart < o.minutes * 60_000) {
      const t0 = performance.now();
      const lr = o.learningRate(step);
      const { metrics } = await o.runtime.run('step', { ...o.feeds(step), lr, step: step + 1, max_grad_norm: o.maxGradNorm });
      const [loss, gradNorm] = metrics!;
      if (!Number.isFinite(loss!)) throw new Error(`step ${step + 1}: the loss is ${loss}; resume from the last checkpoint with a lower --lr`);
      step++;
      if (o.ema && step % o.ema.every === 0) {
        // Only the parameters: the moments are not needed every few steps.
        const params = (await o.runtime.exportState([STATE.params]))[STATE.params]!;
        const d = emaDecay(o.ema.decay, step) ** o.ema.every;
        const e = o.ema.values;
        for (let i = 0; i < e.length; i++) e[i] = d * e[i]! + (1 - d) * params[i]!;
      }
      const dt = (performance.now() - t0) / 1000;
      seconds += dt;
      smoothed = Number.isNaN(smoothed) ? loss! : 0.98 * smoothed + 0.02 * loss!;
      appendFileSync(log, `${JSON.stringify({ step, loss, grad_norm: gradNorm, lr, ms: Math.round(dt * 1000) })}\n`);
      if (!o.quiet) bar.update(step, { rate: (o.samplesPerStep / dt).toFixed(1), loss: smoothed.toFixed(4) });
      if (performance.now() - lastCheckpoint > o.checkpointMinutes * 60_000) await checkpoint();
    }
    await checkpoint();
  } finally {
    if (!o.quiet) bar.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return { step, seconds };
}

/** The command-line options every `npm run pretrain` stage takes. */
export interface StageOptions {
  data: string;
  model: string;
  out: string;
  batch: number;
  lr?: number;
  warmup: number;
  schedule: PretrainSchedule;
  steps: number;
  minutes: number;
  checkpointMinutes: number;
  seed: number;
  threads: number;
  export?: string;
  quiet?: boolean;
}

/** The loop settings every `npm run pretrain` stage takes from its command line; `lr` is the stage's peak rate. */
export function commandLineLoop(
  o: StageOptions,
  start: RunCounters | undefined,
  lr: number,
): Pick<LoopOptions, 'totalSteps' | 'minutes' | 'samplesPerStep' | 'start' | 'checkpointMinutes' | 'quiet' | 'learningRate' | 'maxGradNorm'> {
  return {
    totalSteps: o.steps,
    minutes: o.minutes,
    samplesPerStep: o.batch,
    start: start ?? { step: 0, seconds: 0 },
    checkpointMinutes: o.checkpointMinutes,
    quiet: o.quiet,
    learningRate: pretrainRate(lr, o.warmup, o.schedule, o.steps),
    maxGradNorm: 1,
  };
}

export type PretrainSchedule = 'constant' | 'cosine';

/**
 * Linear warm-up, then constant (the run can be stopped and resumed, or continued with a lower --lr, at any point)
 * or cosine to 0 at step `steps` (a fine-tune of known length, where the decay is what settles the weights).
 */
export const pretrainRate =
  (lr: number, warmup: number, schedule: PretrainSchedule = 'constant', steps = 0) =>
  (step: number) =>
    learningRateAt({ learningRate: lr, schedule: schedule === 'cosine' ? 'cosine' : 'warmup', warmupSteps: warmup, steps }, step);
