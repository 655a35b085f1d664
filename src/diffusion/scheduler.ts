import type { NoiseGenerator } from './random';
import type { SamplerName, SchedulerConfig } from './schedulerConfig';

/**
 * The sampler interface, after diffusers' schedulers. Tensors are flat Float32Arrays in the
 * model's layout (`[batch, channels, height, width]`); every operation is elementwise, so any
 * shape works. The denoising loop is:
 *
 * ```ts
 * scheduler.setTimesteps(25);
 * let x = noise.map((v) => v * scheduler.initNoiseSigma);
 * for (const t of scheduler.timesteps) {
 *   const eps = unet(scheduler.scaleModelInput(x, t), t, text);
 *   x = scheduler.step(eps, t, x, { generator }).prevSample;
 * }
 * ```
 */
export interface Scheduler {
  readonly sampler: SamplerName;
  readonly config: Readonly<SchedulerConfig>;
  /** Timesteps of the current schedule, descending; fed to the model as they are (Euler's may be fractional). */
  readonly timesteps: readonly number[];
  /** Standard deviation of the initial latent noise (1 for DDIM/DPM, σ_max-based for Euler). */
  readonly initNoiseSigma: number;
  /** Chooses `numInferenceSteps` timesteps and resets any multistep history. */
  setTimesteps(numInferenceSteps: number): void;
  /** Scales the sample before it goes into the model (Euler divides by sqrt(σ² + 1); others return it unchanged). */
  scaleModelInput(sample: Float32Array, timestep: number): Float32Array;
  /** True when a step adds fresh noise (Euler ancestral, DDIM with η > 0): one draw per step from each image's generator. */
  readonly stochastic: boolean;
  /**
   * Step `index` of the current schedule as the linear form of `StepCoefficients`, for a run that starts at
   * index 0; `step()` applies the same numbers.
   * @throws NonlinearStepError when the configured step is not that linear form (DDIM's `clip_sample`).
   */
  coefficients(index: number): StepCoefficients;
  /** One reverse step from `timestep` to the next timestep of the schedule. */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options?: StepOptions): StepResult;
}

/**
 * Every sampler step as one linear combination, which is also what the ONNX denoise-step graph runs
 * (src/generation/denoiseStepGraph.ts):
 *
 *   model input  x_in = cin · x
 *   x0 estimate  x0   = p · x + q · out                       (out: the guided model output, ε or v)
 *   next sample  x'   = a · x + b · x0 + c · x0_prev + e · out + s · noise
 *
 * x0_prev is the previous step's x0 (DPM-Solver++ 2M's history).
 */
export interface StepCoefficients {
  /** Timestep fed to the model (Euler's may be fractional). */
  timestep: number;
  cin: number;
  p: number;
  q: number;
  a: number;
  b: number;
  c: number;
  e: number;
  s: number;
}

/** The order of the coefficient vector the step graph reads (after the timestep and guidance scale). */
export const COEFFICIENT_ORDER = ['cin', 'p', 'q', 'a', 'b', 'c', 'e', 's'] as const;

/** A scheduler setting whose step is not the linear form of `StepCoefficients`. */
export class NonlinearStepError extends Error {
  constructor(
    readonly sampler: SamplerName,
    readonly setting: string,
    message: string,
  ) {
    super(message);
    this.name = 'NonlinearStepError';
  }
}

export interface StepInputs {
  /** The previous step's x0; needed where `c` ≠ 0. */
  prevX0?: Float32Array | null;
  /** Fresh noise; needed where `s` ≠ 0. */
  noise?: Float32Array | null;
  /** Clamps x0 to [−clipX0, clipX0] before the update (DDIM's `clip_sample`, outside the linear form). */
  clipX0?: number;
}

/** Applies one step's coefficients to `sample` (x, unscaled) and the model output (`cin` is the caller's, before the model). */
export function applyCoefficients(k: StepCoefficients, modelOutput: Float32Array, sample: Float32Array, inputs: StepInputs = {}): StepResult {
  checkSameLength(modelOutput, sample);
  const { prevX0, noise, clipX0 = Infinity } = inputs;
  if (k.c !== 0 && !prevX0) throw new Error("this step needs the previous step's x0");
  if (k.s !== 0 && !noise) throw new Error('this step needs noise');
  const x0 = new Float32Array(sample.length);
  const next = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) {
    const x = sample[i];
    const out = modelOutput[i];
    const predX0 = Math.min(Math.max(k.p * x + k.q * out, -clipX0), clipX0);
    x0[i] = predX0;
    let v = k.a * x + k.b * predX0 + k.e * out;
    if (k.c !== 0) v += k.c * prevX0![i];
    if (k.s !== 0) v += k.s * noise![i];
    next[i] = v;
  }
  return { prevSample: next, predOriginalSample: x0 };
}

export interface StepOptions {
  /** Noise source for stochastic samplers (Euler ancestral, DDIM with eta > 0); one per batch item, or one for all. */
  generator?: NoiseGenerator | readonly NoiseGenerator[];
}

export interface StepResult {
  /** x at the next (less noisy) timestep. */
  prevSample: Float32Array;
  /** The model's current estimate of the clean sample x0 (for previews). */
  predOriginalSample: Float32Array;
}

/** Checks that two tensors match in size before an elementwise step. */
export function checkSameLength(modelOutput: Float32Array, sample: Float32Array): void {
  if (modelOutput.length !== sample.length) {
    throw new RangeError(`model output has ${modelOutput.length} values but the sample has ${sample.length}`);
  }
}

/**
 * Follows `timesteps` one step at a time, the way diffusers' `_step_index` does: the first call
 * finds its timestep in the schedule (so sampling may start midway, as img2img does), each later
 * call must pass the next one.
 */
export class StepCounter {
  private index: number | null = null;

  reset(): void {
    this.index = null;
  }

  /** Index of `timestep` in `timesteps`, advancing the counter. */
  advance(timesteps: readonly number[], timestep: number): number {
    if (timesteps.length === 0) throw new Error('call setTimesteps() before step()');
    const index = this.index ?? timesteps.indexOf(timestep);
    if (index < 0 || index >= timesteps.length || timesteps[index] !== timestep) {
      const expected = index >= 0 && index < timesteps.length ? `expected ${timesteps[index]}` : 'the schedule is finished';
      throw new Error(`step() got timestep ${timestep} out of order: ${expected}`);
    }
    this.index = index + 1;
    return index;
  }

  /** Index the next `advance` will return, without moving (for `scaleModelInput`). */
  peek(timesteps: readonly number[], timestep: number): number {
    const index = this.index ?? timesteps.indexOf(timestep);
    if (index < 0 || timesteps[index] !== timestep) throw new Error(`timestep ${timestep} is not the next one in the schedule`);
    return index;
  }
}
