import { describe, expect, it } from 'vitest';
import { createScheduler } from '../diffusion/createScheduler';
import { buildNoiseSchedule } from '../diffusion/noiseSchedule';
import { NoiseGenerator, randnForBatch } from '../diffusion/random';
import type { SamplerName } from '../diffusion/schedulerConfig';
import builtinScheduler from '../../models/builtin/scheduler/scheduler_config.json';
import type { StepCoefficients } from '../diffusion/scheduler';
import { planDenoising } from './stepCoefficients';
import { SD1_SCHEDULER_CONFIG as sd1 } from '../diffusion/testing/sd1';
import { maxAbsDiff } from '../testing/numeric';

const BATCH = 2;
const SIZE = 4 * 4 * 4; // per image

const alphaBar = buildNoiseSchedule({ ...sd1, beta_schedule: 'scaled_linear', trained_betas: null, prediction_type: 'epsilon' }).alphasCumprod;

/**
 * A stand-in model that keeps trajectories O(1) (so 1e-5 is a meaningful float32 tolerance): the exact
 * ε-predictor for data concentrated at seeded x0*, (x − √ᾱ_t x0*) / √(1 − ᾱ_t), plus a seeded nonlinear
 * perturbation so no sampler sees a model it is exact for.
 */
function randomModel(seed: number): (x: Float32Array, t: number) => Float32Array {
  const g = new NoiseGenerator(seed);
  const [target, w, v] = [g.randn(BATCH * SIZE), g.randn(BATCH * SIZE), g.randn(BATCH * SIZE)];
  return (x, t) => {
    const a = alphaBar[Math.round(t)]!;
    return x.map((xi, i) => (xi - Math.sqrt(a) * target[i]!) / Math.sqrt(1 - a) + 0.2 * Math.tanh(w[i]! * xi + v[i]!));
  };
}

/** The reference: the scheduler's own loop, as docs/diffusion.md writes it. */
function schedulerTrajectory(config: unknown, sampler: SamplerName, steps: number, eta: number | undefined, seed: number): Float32Array[] {
  const { scheduler } = createScheduler(config, { sampler, eta });
  scheduler.setTimesteps(steps);
  const model = randomModel(99);
  const generators = [new NoiseGenerator(seed), new NoiseGenerator(seed + 1)];
  let x: Float32Array = randnForBatch(BATCH * SIZE, generators).map((v) => v * scheduler.initNoiseSigma);
  const out: Float32Array[] = [x];
  for (const t of scheduler.timesteps) {
    const eps = model(scheduler.scaleModelInput(x, t), t);
    x = scheduler.step(eps, t, x, { generator: generators }).prevSample;
    out.push(x);
  }
  return out;
}

/** The coefficient form, evaluated in float32 as the step graph does. */
function coefficientTrajectory(config: unknown, sampler: SamplerName, steps: number, eta: number | undefined, seed: number): Float32Array[] {
  const plan = planDenoising(config, { sampler, steps, eta });
  const model = randomModel(99);
  const generators = [new NoiseGenerator(seed), new NoiseGenerator(seed + 1)];
  let x: Float32Array = randnForBatch(BATCH * SIZE, generators).map((v) => v * plan.initNoiseSigma);
  let x0Prev: Float32Array = new Float32Array(x.length);
  const out: Float32Array[] = [x];
  for (const k of plan.steps) {
    const noise = plan.stochastic ? randnForBatch(x.length, generators) : new Float32Array(x.length);
    const f = f32(k);
    const eps = model(
      x.map((v) => v * f.cin),
      k.timestep,
    );
    const x0 = x.map((xi, i) => f.p * xi + f.q * eps[i]!);
    x = x.map((xi, i) => f.a * xi + f.b * x0[i]! + f.c * x0Prev[i]! + f.e * eps[i]! + f.s * noise[i]!);
    x0Prev = x0;
    out.push(x);
  }
  return out;
}

/** The graph reads the coefficients as float32. */
function f32(k: StepCoefficients): StepCoefficients {
  return Object.fromEntries(Object.entries(k).map(([key, v]) => [key, Math.fround(v)])) as unknown as StepCoefficients;
}

const cases: [string, unknown, SamplerName, number, number | undefined][] = [
  ['DDIM η=0, SD 1.x', sd1, 'ddim', 10, undefined],
  ['DDIM η=0.6, SD 1.x', sd1, 'ddim', 10, 0.6],
  ['DDIM η=1, built-in model config, trailing spacing', { ...builtinScheduler, timestep_spacing: 'trailing' }, 'ddim', 7, 1],
  ['DDIM v-prediction', { ...sd1, prediction_type: 'v_prediction' }, 'ddim', 6, 0.3],
  ['Euler a, SD 1.x', sd1, 'euler_a', 10, undefined],
  ['Euler a, leading spacing (fractional start noise)', { ...sd1, timestep_spacing: 'leading' }, 'euler_a', 8, undefined],
  ['Euler a v-prediction', { ...sd1, prediction_type: 'v_prediction' }, 'euler_a', 6, undefined],
  ['DPM++ 2M, 10 steps (lower-order final)', sd1, 'dpmpp_2m', 10, undefined],
  ['DPM++ 2M, 20 steps, final σ_min', { ...sd1, final_sigmas_type: 'sigma_min' }, 'dpmpp_2m', 20, undefined],
  ['DPM++ 2M heun, 16 steps', { ...sd1, solver_type: 'heun' }, 'dpmpp_2m', 16, undefined],
  ['DPM++ 2M v-prediction, 25 steps', { ...sd1, prediction_type: 'v_prediction' }, 'dpmpp_2m', 25, undefined],
  ['DPM++ 1 (solver_order 1)', { ...sd1, solver_order: 1 }, 'dpmpp_2m', 8, undefined],
];

describe('coefficient form of each sampler step', () => {
  it.each(cases)('%s: equals the scheduler over a whole trajectory to 1e-5', (_, config, sampler, steps, eta) => {
    const expected = schedulerTrajectory(config, sampler, steps, eta, 11);
    const actual = coefficientTrajectory(config, sampler, steps, eta, 11);
    expect(actual).toHaveLength(steps + 1);
    for (let i = 0; i <= steps; i++) expect(maxAbsDiff(actual[i]!, expected[i]!), `after step ${i}`).toBeLessThan(1e-5);
    // Not vacuous: the trajectory really moves away from its start.
    expect(maxAbsDiff(actual[steps]!, actual[0]!)).toBeGreaterThan(0.1);
  });

  it('uses the history term only where DPM++ 2M is second order', () => {
    const plan = planDenoising(sd1, { sampler: 'dpmpp_2m', steps: 10 });
    expect(plan.steps.map((k) => k.c !== 0)).toEqual([false, true, true, true, true, true, true, true, true, false]);
    expect(plan.stochastic).toBe(false);
  });

  it('marks stochastic samplers and refuses what the linear form cannot express', () => {
    expect(planDenoising(sd1, { sampler: 'euler_a', steps: 3 }).stochastic).toBe(true);
    expect(planDenoising(sd1, { sampler: 'ddim', steps: 3, eta: 0.5 }).stochastic).toBe(true);
    expect(planDenoising(sd1, { sampler: 'ddim', steps: 3 }).stochastic).toBe(false);
    expect(() => planDenoising({ ...sd1, clip_sample: true }, { sampler: 'ddim', steps: 3 })).toThrow(/clip_sample/);
    expect(() => planDenoising(sd1, { sampler: 'euler_a', steps: 3, eta: 0.5 })).toThrow(/eta/);
  });
});
