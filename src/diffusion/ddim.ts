import { buildNoiseSchedule, type NoiseSchedule } from './noiseSchedule';
import { randnForBatch } from './random';
import { checkSameLength, type Scheduler, type StepOptions, type StepResult } from './scheduler';
import type { SchedulerConfig } from './schedulerConfig';
import { ddimTimesteps } from './timesteps';

/**
 * DDIM (Song et al. 2020), as diffusers' DDIMScheduler: eq. 12 with σ_t(η) of eq. 16.
 * η = 0 is the deterministic sampler; η = 1 matches DDPM's posterior variance.
 */
export class DdimScheduler implements Scheduler {
  readonly sampler = 'ddim' as const;
  readonly config: Readonly<SchedulerConfig>;
  readonly initNoiseSigma = 1;
  readonly eta: number;
  timesteps: readonly number[] = [];
  private readonly schedule: NoiseSchedule;
  private readonly finalAlphaCumprod: number;
  private numInferenceSteps = 0;

  constructor(config: SchedulerConfig, options: { eta?: number } = {}) {
    const eta = options.eta ?? 0;
    if (!(eta >= 0 && eta <= 1)) throw new RangeError(`eta must be in [0, 1], got ${eta}`);
    this.config = config;
    this.eta = eta;
    this.schedule = buildNoiseSchedule(config);
    // SD 1.x uses set_alpha_to_one=false: the last step lands on ᾱ_0 rather than 1.
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.schedule.alphasCumprod[0];
  }

  setTimesteps(numInferenceSteps: number): void {
    this.timesteps = ddimTimesteps({
      spacing: this.config.timestep_spacing,
      numTrainTimesteps: this.config.num_train_timesteps,
      numInferenceSteps,
      stepsOffset: this.config.steps_offset,
    });
    this.numInferenceSteps = numInferenceSteps;
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options: StepOptions = {}): StepResult {
    if (this.numInferenceSteps === 0) throw new Error('call setTimesteps() before step()');
    checkSameLength(modelOutput, sample);
    const N = this.config.num_train_timesteps;
    if (!Number.isInteger(timestep) || timestep < 0 || timestep >= N) {
      throw new RangeError(`DDIM timestep must be an integer in [0, ${N}), got ${timestep}`);
    }
    // diffusers steps back by N // n whatever the spacing.
    const prevTimestep = timestep - Math.floor(N / this.numInferenceSteps);
    const alphaProd = this.schedule.alphasCumprod[timestep];
    const alphaProdPrev = prevTimestep >= 0 ? this.schedule.alphasCumprod[prevTimestep] : this.finalAlphaCumprod;
    const betaProd = 1 - alphaProd;
    const variance = ((1 - alphaProdPrev) / betaProd) * (1 - alphaProd / alphaProdPrev);
    const stdDev = this.eta * Math.sqrt(variance);
    const directionScale = Math.sqrt(Math.max(1 - alphaProdPrev - stdDev * stdDev, 0));
    const sqrtA = Math.sqrt(alphaProd);
    const sqrtB = Math.sqrt(betaProd);
    const clip = this.config.clip_sample ? this.config.clip_sample_range : Infinity;
    const isV = this.config.prediction_type === 'v_prediction';

    const x0 = new Float32Array(sample.length);
    const prev = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const x = sample[i];
      const out = modelOutput[i];
      let predX0 = isV ? sqrtA * x - sqrtB * out : (x - sqrtB * out) / sqrtA;
      const predEps = isV ? sqrtA * out + sqrtB * x : out;
      predX0 = Math.min(Math.max(predX0, -clip), clip);
      x0[i] = predX0;
      prev[i] = Math.sqrt(alphaProdPrev) * predX0 + directionScale * predEps;
    }
    if (this.eta > 0) {
      if (!options.generator) throw new Error('DDIM with eta > 0 needs a generator for its noise');
      const noise = randnForBatch(sample.length, options.generator);
      for (let i = 0; i < prev.length; i++) prev[i] += stdDev * noise[i];
    }
    return { prevSample: prev, predOriginalSample: x0 };
  }
}
