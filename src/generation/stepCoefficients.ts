/**
 * The per-step numbers of the ONNX "denoise step" graph (src/generation/denoiseStepGraph.ts): each scheduler of
 * src/diffusion gives its steps as the linear form of `StepCoefficients` (src/diffusion/scheduler.ts), the same
 * numbers its own `step()` applies.
 */
import { createScheduler } from '../diffusion/createScheduler';
import type { StepCoefficients } from '../diffusion/scheduler';
import type { SamplerName } from '../diffusion/schedulerConfig';

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
 * @throws NonlinearStepError for settings the linear form cannot express (DDIM's `clip_sample`), and whatever `createScheduler` refuses.
 */
export function planDenoising(schedulerConfig: unknown, options: PlanOptions): DenoisePlan {
  const { scheduler } = createScheduler(schedulerConfig, { sampler: options.sampler, eta: options.eta });
  scheduler.setTimesteps(options.steps);
  const steps = scheduler.timesteps.map((_, i) => scheduler.coefficients(i));
  return { sampler: scheduler.sampler, steps, initNoiseSigma: scheduler.initNoiseSigma, stochastic: scheduler.stochastic };
}
