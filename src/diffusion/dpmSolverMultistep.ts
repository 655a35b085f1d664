import { buildNoiseSchedule, sigmaFromAlphaCumprod } from './noiseSchedule';
import { applyCoefficients, checkSameLength, StepCounter, type Scheduler, type StepCoefficients, type StepResult } from './scheduler';
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
  readonly stochastic = false;
  timesteps: readonly number[] = [];
  /** σ = sqrt((1 − ᾱ)/ᾱ) for each timestep, then the final σ (0, or σ at t = 0). */
  sigmas: Float64Array = new Float64Array(0);
  private readonly trainSigmas: Float64Array;
  private readonly counter = new StepCounter();
  /** The previous step's data prediction x0 (null before the first step). */
  private prevX0: Float32Array | null = null;

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
    this.prevX0 = null;
    this.counter.reset();
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  /**
   * @param hasHistory whether the previous step's x0 is at hand: not on the first step of a run, which is
   * first order (diffusers' `lower_order_nums`); a run may start midway, as img2img does.
   */
  coefficients(index: number, hasHistory = index > 0): StepCoefficients {
    if (!(index >= 0 && index < this.timesteps.length)) throw new RangeError(`step index ${index} is outside the schedule of ${this.timesteps.length}`);
    const { lower_order_final, euler_at_final, final_sigmas_type, solver_order, solver_type, prediction_type } = this.config;
    const s0 = alphaSigma(this.sigmas[index]);
    const t = alphaSigma(this.sigmas[index + 1]);
    // x0 from ε (or v) at noise level σ: (x − σ_t·ε)/α_t, or α_t·x − σ_t·v.
    const [p, q] = prediction_type === 'v_prediction' ? [s0.alpha, -s0.sigmaT] : [1 / s0.alpha, -s0.sigmaT / s0.alpha];
    const short = lower_order_final && this.timesteps.length < 15;
    const lowerOrderFinal = index === this.timesteps.length - 1 && (euler_at_final || short || final_sigmas_type === 'zero');
    const h = t.lambda - s0.lambda;
    const phi = Math.expm1(-h); // e^{−h} − 1
    const sampleScale = t.sigmaT / s0.sigmaT;
    const d0Scale = -t.alpha * phi;
    const first = { timestep: this.timesteps[index], cin: 1, p, q, a: sampleScale, b: d0Scale, c: 0, e: 0, s: 0 };
    // DPM-Solver++(1), which is DDIM: x_t = (σ_t/σ_s) x_s − α_t (e^{−h} − 1) x0, h = λ_t − λ_s.
    if (solver_order === 1 || !hasHistory || lowerOrderFinal) return first;
    // DPM-Solver++(2M): D0 = x0, D1 = (x0 − x0_prev)/r0 with r0 = h_0/h, midpoint or Heun weighting of D1.
    const s1 = alphaSigma(this.sigmas[index - 1]);
    const r0 = (s0.lambda - s1.lambda) / h;
    const d1Scale = solver_type === 'midpoint' ? -0.5 * t.alpha * phi : t.alpha * (phi / h + 1);
    return { ...first, b: d0Scale + d1Scale / r0, c: -d1Scale / r0 };
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepResult {
    checkSameLength(modelOutput, sample);
    const index = this.counter.advance(this.timesteps, timestep);
    const result = applyCoefficients(this.coefficients(index, this.prevX0 !== null), modelOutput, sample, { prevX0: this.prevX0 });
    this.prevX0 = result.predOriginalSample;
    return result;
  }
}

/** VP coefficients for noise level σ; σ = 0 gives α = 1, σ_t = 0, λ = +∞. */
function alphaSigma(sigma: number): { alpha: number; sigmaT: number; lambda: number } {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  const sigmaT = sigma * alpha;
  return { alpha, sigmaT, lambda: Math.log(alpha) - Math.log(sigmaT) };
}
