import { buildNoiseSchedule, sigmaFromAlphaCumprod } from './noiseSchedule';
import { randnForBatch } from './random';
import { checkSameLength, StepCounter, type Scheduler, type StepOptions, type StepResult } from './scheduler';
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
    const sigma = this.sigmas[this.counter.peek(this.timesteps, timestep)];
    const scale = 1 / Math.sqrt(sigma * sigma + 1);
    return sample.map((v) => v * scale);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options: StepOptions = {}): StepResult {
    checkSameLength(modelOutput, sample);
    if (!options.generator) throw new Error('Euler ancestral needs a generator for its noise');
    const index = this.counter.advance(this.timesteps, timestep);
    const sigma = this.sigmas[index];
    const sigmaTo = this.sigmas[index + 1];
    const sigmaUp = Math.sqrt((sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo)) / (sigma * sigma));
    const sigmaDown = Math.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
    const dt = sigmaDown - sigma;
    const isV = this.config.prediction_type === 'v_prediction';
    const vScaleOut = -sigma / Math.sqrt(sigma * sigma + 1);
    const vScaleIn = 1 / (sigma * sigma + 1);
    // diffusers draws the noise on every step, the last included, so the generator stream stays aligned.
    const noise = randnForBatch(sample.length, options.generator);

    const x0 = new Float32Array(sample.length);
    const prev = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const x = sample[i];
      const predX0 = isV ? modelOutput[i] * vScaleOut + x * vScaleIn : x - sigma * modelOutput[i];
      const derivative = (x - predX0) / sigma;
      x0[i] = predX0;
      prev[i] = x + derivative * dt + noise[i] * sigmaUp;
    }
    return { prevSample: prev, predOriginalSample: x0 };
  }
}

/** numpy.interp(t, arange(len(values)), values) for t within range. */
function interpolate(values: Float64Array, t: number): number {
  const low = Math.min(Math.floor(t), values.length - 1);
  const high = Math.min(low + 1, values.length - 1);
  const w = t - low;
  return values[low] * (1 - w) + values[high] * w;
}
