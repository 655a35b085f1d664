import type { NoiseScheduleConfig } from './schedulerConfig';

/**
 * The discrete forward process q(x_t | x_0) = N(sqrt(ᾱ_t) x_0, (1 − ᾱ_t) I), t = 0 … N−1,
 * built from a diffusers beta schedule. Values are kept in float64 (diffusers computes them in
 * float32; the difference is below 1e-6 relative).
 */
export interface NoiseSchedule {
  readonly numTrainTimesteps: number;
  readonly betas: Float64Array;
  /** ᾱ_t = Π_{s≤t} (1 − β_s). */
  readonly alphasCumprod: Float64Array;
}

/** Builds the schedule: `linear`, SD's `scaled_linear` (β = linspace(√β0, √β1, N)²), or the Glide cosine. */
export function buildNoiseSchedule(config: NoiseScheduleConfig): NoiseSchedule {
  const n = config.num_train_timesteps;
  let betas: Float64Array;
  if (config.trained_betas) {
    betas = Float64Array.from(config.trained_betas);
  } else if (config.beta_schedule === 'linear') {
    betas = linspace(config.beta_start, config.beta_end, n);
  } else if (config.beta_schedule === 'scaled_linear') {
    betas = linspace(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n).map((b) => b * b);
  } else {
    betas = cosineBetas(n);
  }
  const alphasCumprod = new Float64Array(n);
  let product = 1;
  for (let t = 0; t < n; t++) {
    product *= 1 - betas[t];
    alphasCumprod[t] = product;
  }
  return { numTrainTimesteps: n, betas, alphasCumprod };
}

/** numpy.linspace(start, stop, count): endpoints included. */
export function linspace(start: number, stop: number, count: number): Float64Array {
  const out = new Float64Array(count);
  if (count === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (count - 1);
  for (let i = 0; i < count; i++) out[i] = start + i * step;
  out[count - 1] = stop;
  return out;
}

/** Glide's `squaredcos_cap_v2`: β_i = min(1 − ᾱ(t_{i+1}) / ᾱ(t_i), 0.999), ᾱ(t) = cos²((t + 0.008)/1.008 · π/2). */
function cosineBetas(n: number): Float64Array {
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const betas = new Float64Array(n);
  for (let i = 0; i < n; i++) betas[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), 0.999);
  return betas;
}

/** σ_t = sqrt((1 − ᾱ_t) / ᾱ_t): the noise level of x_t / sqrt(ᾱ_t), the variable Euler/DPM samplers integrate. */
export function sigmaFromAlphaCumprod(alphaCumprod: number): number {
  return Math.sqrt((1 - alphaCumprod) / alphaCumprod);
}
