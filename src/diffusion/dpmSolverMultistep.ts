import { buildNoiseSchedule, sigmaFromAlphaCumprod } from './noiseSchedule';
import { checkSameLength, StepCounter, type Scheduler, type StepResult } from './scheduler';
import type { SchedulerConfig } from './schedulerConfig';
import { dpmSolverTimesteps } from './timesteps';

/**
 * DPM-Solver++ multistep (Lu et al. 2022, arXiv:2211.01095), as diffusers' DPMSolverMultistepScheduler
 * with algorithm_type "dpmsolver++": it integrates the data prediction x0(x_t) in λ = log(α/σ).
 * Order 2 is "DPM++ 2M": each step extrapolates x0 linearly from the last two model outputs.
 * The first step has no history and is first order; the last step is first order too when
 * `final_sigmas_type` is "zero", `euler_at_final` is set, or (with `lower_order_final`) when there
 * are fewer than 15 steps — diffusers' stabilisation for short schedules.
 */
export class DpmSolverMultistepScheduler implements Scheduler {
  readonly sampler = 'dpmpp_2m' as const;
  readonly config: Readonly<SchedulerConfig>;
  readonly initNoiseSigma = 1;
  timesteps: readonly number[] = [];
  /** σ = sqrt((1 − ᾱ)/ᾱ) for each timestep, then the final σ (0, or σ at t = 0). */
  sigmas: Float64Array = new Float64Array(0);
  private readonly trainSigmas: Float64Array;
  private readonly counter = new StepCounter();
  /** Data predictions of earlier steps, newest last. */
  private history: Float32Array[] = [];
  private lowerOrderNums = 0;

  constructor(config: SchedulerConfig) {
    this.config = config;
    this.trainSigmas = buildNoiseSchedule(config).alphasCumprod.map(sigmaFromAlphaCumprod);
  }

  setTimesteps(numInferenceSteps: number): void {
    this.timesteps = dpmSolverTimesteps({
      spacing: this.config.timestep_spacing,
      numTrainTimesteps: this.config.num_train_timesteps,
      numInferenceSteps,
      stepsOffset: this.config.steps_offset,
    });
    const last = this.config.final_sigmas_type === 'zero' ? 0 : this.trainSigmas[0];
    this.sigmas = Float64Array.from([...this.timesteps.map((t) => this.trainSigmas[t]), last]);
    this.history = [];
    this.lowerOrderNums = 0;
    this.counter.reset();
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepResult {
    checkSameLength(modelOutput, sample);
    const index = this.counter.advance(this.timesteps, timestep);
    const { lower_order_final, euler_at_final, final_sigmas_type, solver_order } = this.config;
    const short = lower_order_final && this.timesteps.length < 15;
    const lowerOrderFinal =
      index === this.timesteps.length - 1 && (euler_at_final || short || final_sigmas_type === 'zero');

    const x0 = this.dataPrediction(modelOutput, sample, this.sigmas[index]);
    this.history = [...this.history, x0].slice(-solver_order);

    const prevSample =
      solver_order === 1 || this.lowerOrderNums < 1 || lowerOrderFinal
        ? this.firstOrderUpdate(x0, sample, index)
        : this.secondOrderUpdate(this.history, sample, index);
    this.lowerOrderNums = Math.min(this.lowerOrderNums + 1, solver_order);
    return { prevSample, predOriginalSample: x0 };
  }

  /** x0 from ε (or v) at noise level σ, with α_t = 1/sqrt(σ²+1), σ_t = σ α_t. */
  private dataPrediction(modelOutput: Float32Array, sample: Float32Array, sigma: number): Float32Array {
    const { alpha, sigmaT } = alphaSigma(sigma);
    const x0 = new Float32Array(sample.length);
    if (this.config.prediction_type === 'v_prediction') {
      for (let i = 0; i < x0.length; i++) x0[i] = alpha * sample[i] - sigmaT * modelOutput[i];
    } else {
      for (let i = 0; i < x0.length; i++) x0[i] = (sample[i] - sigmaT * modelOutput[i]) / alpha;
    }
    return x0;
  }

  /** DPM-Solver++(1), which is DDIM: x_t = (σ_t/σ_s) x_s − α_t (e^{−h} − 1) x0, h = λ_t − λ_s. */
  private firstOrderUpdate(x0: Float32Array, sample: Float32Array, index: number): Float32Array {
    const s = alphaSigma(this.sigmas[index]);
    const t = alphaSigma(this.sigmas[index + 1]);
    const h = t.lambda - s.lambda;
    const sampleScale = t.sigmaT / s.sigmaT;
    const x0Scale = -t.alpha * Math.expm1(-h);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) out[i] = sampleScale * sample[i] + x0Scale * x0[i];
    return out;
  }

  /** DPM-Solver++(2M): D0 = m0, D1 = (m0 − m1)/r0 with r0 = h_0/h, midpoint or Heun weighting of D1. */
  private secondOrderUpdate(history: Float32Array[], sample: Float32Array, index: number): Float32Array {
    const [m1, m0] = history;
    const s1 = alphaSigma(this.sigmas[index - 1]);
    const s0 = alphaSigma(this.sigmas[index]);
    const t = alphaSigma(this.sigmas[index + 1]);
    const h = t.lambda - s0.lambda;
    const r0 = (s0.lambda - s1.lambda) / h;
    const phi = Math.expm1(-h); // e^{−h} − 1
    const sampleScale = t.sigmaT / s0.sigmaT;
    const d0Scale = -t.alpha * phi;
    const d1Scale = this.config.solver_type === 'midpoint' ? -0.5 * t.alpha * phi : t.alpha * (phi / h + 1);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const d1 = (m0[i] - m1[i]) / r0;
      out[i] = sampleScale * sample[i] + d0Scale * m0[i] + d1Scale * d1;
    }
    return out;
  }
}

/** VP coefficients for noise level σ; σ = 0 gives α = 1, σ_t = 0, λ = +∞. */
function alphaSigma(sigma: number): { alpha: number; sigmaT: number; lambda: number } {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  const sigmaT = sigma * alpha;
  return { alpha, sigmaT, lambda: Math.log(alpha) - Math.log(sigmaT) };
}
