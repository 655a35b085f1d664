/**
 * Every implemented sampler's step, written as one linear combination so a single ONNX "denoise step" graph
 * runs all of them with a few per-step numbers as inputs (src/generation/denoiseStepGraph.ts):
 *
 *   model input  x_in  = cin · x
 *   x0 estimate  x0    = p · x + q · out                       (out: the guided UNet output, ε or v)
 *   next latent  x'    = a · x + b · x0 + c · x0_prev + e · out + s · noise
 *
 * x0_prev is the previous step's x0 (DPM-Solver++ 2M's history). The numbers come from the schedulers of
 * src/diffusion (their timesteps and σs), so the schedule math lives in one place; the equivalence with each
 * scheduler's own `step()` over whole trajectories is tested in stepCoefficients.test.ts.
 */
import { createScheduler } from '../diffusion/createScheduler';
import type { DdimScheduler } from '../diffusion/ddim';
import type { DpmSolverMultistepScheduler } from '../diffusion/dpmSolverMultistep';
import type { EulerAncestralScheduler } from '../diffusion/eulerAncestral';
import { buildNoiseSchedule } from '../diffusion/noiseSchedule';
import type { SamplerName, SchedulerConfig } from '../diffusion/schedulerConfig';

/** One step's numbers; see the module comment for where each goes. */
export interface StepCoefficients {
  /** Timestep fed to the UNet (Euler's may be fractional). */
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

export interface DenoisePlan {
  sampler: SamplerName;
  steps: StepCoefficients[];
  /** Standard deviation of the starting noise. */
  initNoiseSigma: number;
  /** True when a step adds fresh noise (Euler ancestral, DDIM with η > 0): one draw per step from each image's generator. */
  stochastic: boolean;
}

export interface PlanOptions {
  sampler: SamplerName;
  steps: number;
  /** DDIM's η. */
  eta?: number;
}

/**
 * The per-step coefficients of `sampler` over `steps` steps, for a diffusers scheduler config
 * (e.g. the model's scheduler_config.json).
 * @throws for settings the linear form cannot express (DDIM's `clip_sample`), and whatever `createScheduler` refuses.
 */
export function planDenoising(schedulerConfig: unknown, options: PlanOptions): DenoisePlan {
  const { scheduler } = createScheduler(schedulerConfig, { sampler: options.sampler, eta: options.eta });
  scheduler.setTimesteps(options.steps);
  switch (scheduler.sampler) {
    case 'ddim':
      return ddimPlan(scheduler as DdimScheduler);
    case 'euler_a':
      return eulerAncestralPlan(scheduler as EulerAncestralScheduler);
    case 'dpmpp_2m':
      return dpmSolverPlan(scheduler as DpmSolverMultistepScheduler);
  }
}

const NONE = { c: 0, e: 0, s: 0 };

function ddimPlan(scheduler: DdimScheduler): DenoisePlan {
  const config = scheduler.config;
  if (config.clip_sample) throw new RangeError('DDIM with clip_sample is not supported by the denoise-step graph (Stable Diffusion does not use it)');
  const alphas = buildNoiseSchedule(config).alphasCumprod;
  const finalAlpha = config.set_alpha_to_one ? 1 : alphas[0]!;
  const N = config.num_train_timesteps;
  const stride = Math.floor(N / scheduler.timesteps.length);
  const isV = config.prediction_type === 'v_prediction';
  const steps = scheduler.timesteps.map((t): StepCoefficients => {
    // As DdimScheduler.step: eq. 12 with σ_t(η) of eq. 16.
    const prevT = t - stride;
    const alpha = alphas[t]!;
    const alphaPrev = prevT >= 0 ? alphas[prevT]! : finalAlpha;
    const variance = ((1 - alphaPrev) / (1 - alpha)) * (1 - alpha / alphaPrev);
    const std = scheduler.eta * Math.sqrt(variance);
    const direction = Math.sqrt(Math.max(1 - alphaPrev - std * std, 0));
    const sqrtA = Math.sqrt(alpha);
    const sqrtB = Math.sqrt(1 - alpha);
    // ε estimate: `out` itself, or from v: sqrtA·v + sqrtB·x.
    const [p, q] = isV ? [sqrtA, -sqrtB] : [1 / sqrtA, -sqrtB / sqrtA];
    const [epsFromX, epsFromOut] = isV ? [sqrtB, sqrtA] : [0, 1];
    return { timestep: t, cin: 1, p, q, a: direction * epsFromX, b: Math.sqrt(alphaPrev), c: 0, e: direction * epsFromOut, s: std };
  });
  return { sampler: 'ddim', steps, initNoiseSigma: scheduler.initNoiseSigma, stochastic: scheduler.eta > 0 };
}

function eulerAncestralPlan(scheduler: EulerAncestralScheduler): DenoisePlan {
  const isV = scheduler.config.prediction_type === 'v_prediction';
  const sigmas = scheduler.sigmas;
  const steps = scheduler.timesteps.map((t, i): StepCoefficients => {
    // As EulerAncestralScheduler.step: x' = x + (x − x0)/σ · (σ_down − σ) + σ_up · noise.
    const sigma = sigmas[i]!;
    const sigmaTo = sigmas[i + 1]!;
    const sigmaUp = Math.sqrt((sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo)) / (sigma * sigma));
    const sigmaDown = Math.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
    const k = (sigmaDown - sigma) / sigma;
    const [p, q] = isV ? [1 / (sigma * sigma + 1), -sigma / Math.sqrt(sigma * sigma + 1)] : [1, -sigma];
    return { timestep: t, cin: 1 / Math.sqrt(sigma * sigma + 1), p, q, a: 1 + k, b: -k, ...NONE, s: sigmaUp };
  });
  return { sampler: 'euler_a', steps, initNoiseSigma: scheduler.initNoiseSigma, stochastic: true };
}

function dpmSolverPlan(scheduler: DpmSolverMultistepScheduler): DenoisePlan {
  const config: Readonly<SchedulerConfig> = scheduler.config;
  const sigmas = scheduler.sigmas;
  const n = scheduler.timesteps.length;
  const isV = config.prediction_type === 'v_prediction';
  const short = config.lower_order_final && n < 15;
  const steps = scheduler.timesteps.map((t, i): StepCoefficients => {
    const s0 = alphaSigma(sigmas[i]!);
    const next = alphaSigma(sigmas[i + 1]!);
    const [p, q] = isV ? [s0.alpha, -s0.sigmaT] : [1 / s0.alpha, -s0.sigmaT / s0.alpha];
    // As DpmSolverMultistepScheduler.step, which starts at index 0 here: first order without history and at a lower-order final step.
    const lowerOrderFinal = i === n - 1 && (config.euler_at_final || short || config.final_sigmas_type === 'zero');
    const h = next.lambda - s0.lambda;
    const phi = Math.expm1(-h);
    const sampleScale = next.sigmaT / s0.sigmaT;
    if (config.solver_order === 1 || i < 1 || lowerOrderFinal) {
      return { timestep: t, cin: 1, p, q, a: sampleScale, b: -next.alpha * phi, ...NONE };
    }
    // 2M: D0 = x0, D1 = (x0 − x0_prev) / r0.
    const s1 = alphaSigma(sigmas[i - 1]!);
    const r0 = (s0.lambda - s1.lambda) / h;
    const d1Scale = config.solver_type === 'midpoint' ? -0.5 * next.alpha * phi : next.alpha * (phi / h + 1);
    return { timestep: t, cin: 1, p, q, a: sampleScale, b: -next.alpha * phi + d1Scale / r0, c: -d1Scale / r0, e: 0, s: 0 };
  });
  return { sampler: 'dpmpp_2m', steps, initNoiseSigma: scheduler.initNoiseSigma, stochastic: false };
}

/** VP coefficients for noise level σ (as in DpmSolverMultistepScheduler): α = 1/sqrt(σ²+1), σ_t = σα, λ = log(α/σ_t). */
function alphaSigma(sigma: number): { alpha: number; sigmaT: number; lambda: number } {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  const sigmaT = sigma * alpha;
  return { alpha, sigmaT, lambda: Math.log(alpha) - Math.log(sigmaT) };
}
