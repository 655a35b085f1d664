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
  /** One reverse step from `timestep` to the next timestep of the schedule. */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options?: StepOptions): StepResult;
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
