import { linspace } from './noiseSchedule';
import type { TimestepSpacing } from './schedulerConfig';

/**
 * Inference timestep spacings, as each diffusers scheduler computes them in `set_timesteps`
 * ("linspace", "leading", "trailing" are Table 2 of Lin et al. 2023, "Common Diffusion Noise
 * Schedules and Sample Steps are Flawed"). All lists are descending. numpy's `round` rounds
 * halves to even, which matters (e.g. 166.5 → 166), so it is reproduced here.
 */
export interface SpacingParams {
  spacing: TimestepSpacing;
  numTrainTimesteps: number;
  numInferenceSteps: number;
  stepsOffset: number;
}

/** DDIMScheduler (and DDPMScheduler): n integer timesteps. */
export function ddimTimesteps({ spacing, numTrainTimesteps: N, numInferenceSteps: n, stepsOffset }: SpacingParams): number[] {
  checkCount(N, n);
  if (spacing === 'linspace') return descending(Array.from(linspace(0, N - 1, n), roundHalfEven));
  if (spacing === 'leading') {
    const ratio = Math.floor(N / n);
    return descending(range(n).map((i) => i * ratio + stepsOffset));
  }
  return trailing(N, n);
}

/**
 * EulerAncestralDiscreteScheduler: timesteps are floats (float32) — "linspace" does not round,
 * so the model sees fractional timesteps and sigmas are interpolated between training steps.
 */
export function eulerTimesteps({ spacing, numTrainTimesteps: N, numInferenceSteps: n, stepsOffset }: SpacingParams): number[] {
  checkCount(N, n);
  if (spacing === 'linspace') return descending(Array.from(linspace(0, N - 1, n), Math.fround));
  if (spacing === 'leading') {
    const ratio = Math.floor(N / n);
    return descending(range(n).map((i) => i * ratio + stepsOffset));
  }
  return trailing(N, n);
}

/**
 * DPMSolverMultistepScheduler: spaces n + 1 points and drops the last (t = 0), so its "leading"
 * ratio is N // (n + 1), unlike DDIM's N // n.
 */
export function dpmSolverTimesteps({ spacing, numTrainTimesteps: N, numInferenceSteps: n, stepsOffset }: SpacingParams): number[] {
  checkCount(N, n);
  if (spacing === 'linspace') return descending(Array.from(linspace(0, N - 1, n + 1), roundHalfEven)).slice(0, n);
  if (spacing === 'leading') {
    const ratio = Math.floor(N / (n + 1));
    return descending(range(n + 1).map((i) => i * ratio))
      .slice(0, n)
      .map((t) => t + stepsOffset);
  }
  return trailing(N, n);
}

/** `np.round(np.arange(N, 0, -N / n)) - 1`. */
function trailing(N: number, n: number): number[] {
  const step = N / n;
  const count = Math.ceil(N / step);
  return range(count).map((i) => roundHalfEven(N - i * step) - 1);
}

/** numpy's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function checkCount(N: number, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > N) {
    throw new RangeError(`number of inference steps must be an integer in [1, ${N}], got ${n}`);
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function descending(values: number[]): number[] {
  return values.slice().sort((a, b) => b - a);
}
