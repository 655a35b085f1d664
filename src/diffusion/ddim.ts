import { buildNoiseSchedule, type NoiseSchedule } from './noiseSchedule';
import { randnForBatch } from './random';
import { applyCoefficients, checkSameLength, NonlinearStepError, type Scheduler, type StepCoefficients, type StepOptions, type StepResult } from './scheduler';
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

  get stochastic(): boolean {
    return this.eta > 0;
  }

  coefficients(index: number): StepCoefficients {
    if (this.config.clip_sample) {
      throw new NonlinearStepError(
        'ddim',
        'clip_sample',
        'DDIM with clip_sample clamps x0, which the linear step form cannot express (Stable Diffusion does not use it)',
      );
    }
    if (!(index >= 0 && index < this.timesteps.length)) throw new RangeError(`step index ${index} is outside the schedule of ${this.timesteps.length}`);
    return this.linearStep(this.timesteps[index]);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, options: StepOptions = {}): StepResult {
    if (this.numInferenceSteps === 0) throw new Error('call setTimesteps() before step()');
    checkSameLength(modelOutput, sample);
    const N = this.config.num_train_timesteps;
    if (!Number.isInteger(timestep) || timestep < 0 || timestep >= N) {
      throw new RangeError(`DDIM timestep must be an integer in [0, ${N}), got ${timestep}`);
    }
    let noise: Float32Array | null = null;
    if (this.eta > 0) {
      if (!options.generator) throw new Error('DDIM with eta > 0 needs a generator for its noise');
      noise = randnForBatch(sample.length, options.generator);
    }
    const clipX0 = this.config.clip_sample ? this.config.clip_sample_range : Infinity;
    return applyCoefficients(this.linearStep(timestep), modelOutput, sample, { noise, clipX0 });
  }

  /** The step from `timestep` (any training timestep; `clip_sample` is the caller's): eq. 12 with σ_t(η) of eq. 16. */
  private linearStep(timestep: number): StepCoefficients {
    // diffusers steps back by N // n whatever the spacing.
    const prevTimestep = timestep - Math.floor(this.config.num_train_timesteps / this.numInferenceSteps);
    const alphaProd = this.schedule.alphasCumprod[timestep];
    const alphaProdPrev = prevTimestep >= 0 ? this.schedule.alphasCumprod[prevTimestep] : this.finalAlphaCumprod;
    const betaProd = 1 - alphaProd;
    const variance = ((1 - alphaProdPrev) / betaProd) * (1 - alphaProd / alphaProdPrev);
    const stdDev = this.eta * Math.sqrt(variance);
    const directionScale = Math.sqrt(Math.max(1 - alphaProdPrev - stdDev * stdDev, 0));
    const sqrtA = Math.sqrt(alphaProd);
    const sqrtB = Math.sqrt(betaProd);
    const isV = this.config.prediction_type === 'v_prediction';
    // x0 from ε: (x − √(1−ᾱ)·out)/√ᾱ, from v: √ᾱ·x − √(1−ᾱ)·v; the ε estimate is `out` itself, or √ᾱ·v + √(1−ᾱ)·x.
    const [p, q] = isV ? [sqrtA, -sqrtB] : [1 / sqrtA, -sqrtB / sqrtA];
    const [epsFromX, epsFromOut] = isV ? [sqrtB, sqrtA] : [0, 1];
    return {
      timestep,
      cin: 1,
      p,
      q,
      a: directionScale * epsFromX,
      b: Math.sqrt(alphaProdPrev),
      c: 0,
      e: directionScale * epsFromOut,
      s: stdDev,
    };
  }
}
