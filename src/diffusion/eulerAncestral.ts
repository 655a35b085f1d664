import { buildNoiseSchedule, sigmaFromAlphaCumprod } from './noiseSchedule';
import { randnForBatch } from './random';
import { applyCoefficients, checkSameLength, StepCounter, type Scheduler, type StepCoefficients, type StepOptions, type StepResult } from './scheduler';
import type { SchedulerConfig } from './schedulerConfig';
import { eulerTimesteps } from './timesteps';

/**
 * Euler ancestral ("Euler a"), as diffusers' EulerAncestralDiscreteScheduler after k-diffusion's
 * `sample_euler_ancestral`. It integrates in σ = sqrt((1 − ᾱ)/ᾱ), where x_σ = x0 + σ ε; the model
 * still sees the variance-preserving input x_σ / sqrt(σ² + 1). Each step goes down to σ_down
 * deterministically and adds fresh noise of size σ_up, with σ_down² + σ_up² = σ_next².
 */
export class EulerAncestralScheduler implements Scheduler {
  readonly sampler = 'euler_a' as const;
  readonly config: Readonly<SchedulerConfig>;
  readonly stochastic = true;
  timesteps: readonly number[] = [];
  /** σ for each timestep, then 0 for the end of sampling. */
  sigmas: Float64Array = new Float64Array(0);
  private readonly trainSigmas: Float64Array;
  private readonly counter = new StepCounter();

  constructor(config: SchedulerConfig) {
    this.config = config;
    this.trainSigmas = buildNoiseSchedule(config).alphasCumprod.map(sigmaFromAlphaCumprod);
  }

  get initNoiseSigma(): number {
    if (this.sigmas.length === 0) throw new Error('call setTimesteps() before reading initNoiseSigma');
    const max = Math.max(...this.sigmas);
    // Spacings that start at the last training step start from pure noise of std σ_max; "leading" does not reach it.
    return this.config.timestep_spacing === 'leading' ? Math.sqrt(max * max + 1) : max;
  }

  setTimesteps(numInferenceSteps: number): void {
    this.timesteps = eulerTimesteps({
      spacing: this.config.timestep_spacing,
      numTrainTimesteps: this.config.num_train_timesteps,
      numInferenceSteps,
      stepsOffset: this.config.steps_offset,
    });
    this.sigmas = Float64Array.from([...this.timesteps.map((t) => interpolate(this.trainSigmas, t)), 0]);
    this.counter.reset();
  }

  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    const { cin } = this.coefficients(this.counter.peek(this.timesteps, timestep));
    return sample.map((v) => v * cin);
  }

  coefficients(index: number): StepCoefficients {
    if (!(index >= 0 && index < this.timesteps.length)) throw new RangeError(`step index ${index} is outside the schedule of ${this.timesteps.length}`);
    const sigma = this.sigmas[index];
    const sigmaTo = this.sigmas[index + 1];
    const sigmaUp = Math.sqrt((sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo)) / (sigma * sigma));
    const sigmaDown = Math.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
    // x' = x + (x − x0)/σ · (σ_down − σ) + σ_up · noise
    const k = (sigmaDown - sigma) / sigma;
    const isV = this.config.prediction_type === 'v_prediction';
    const [p, q] = isV ? [1 / (sigma * sigma + 1), -sigma / Math.sqrt(sigma * sigma + 1)] : [1, -sigma];
    return { timestep: this.timesteps[index], cin: 1 / Math.sqrt(sigma * sigma + 1), p, q, a: 1 + k, b: -k, c: 0, e: 0, s: sigmaUp };
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options: StepOptions = {}): StepResult {
    checkSameLength(modelOutput, sample);
    if (!options.generator) throw new Error('Euler ancestral needs a generator for its noise');
    const index = this.counter.advance(this.timesteps, timestep);
    // diffusers draws the noise on every step, the last included, so the generator stream stays aligned.
    const noise = randnForBatch(sample.length, options.generator);
    return applyCoefficients(this.coefficients(index), modelOutput, sample, { noise });
  }
}

/** numpy.interp(t, arange(len(values)), values) for t within range. */
function interpolate(values: Float64Array, t: number): number {
  const low = Math.min(Math.floor(t), values.length - 1);
  const high = Math.min(low + 1, values.length - 1);
  const w = t - low;
  return values[low] * (1 - w) + values[high] * w;
}
