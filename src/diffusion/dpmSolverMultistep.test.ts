import { describe, expect, it } from 'vitest';
import { DdimScheduler } from './ddim';
import { DpmSolverMultistepScheduler } from './dpmSolverMultistep';
import { NoiseGenerator } from './random';
import { applyCoefficients, type Scheduler } from './scheduler';
import { resolveSchedulerConfig } from './schedulerConfig';
import { maxAbsDiff } from '../testing/numeric';
import { SD1_SCHEDULER_CONFIG, sd1AlphaBar } from './testing/sd1';

const sd1 = { ...SD1_SCHEDULER_CONFIG, timestep_spacing: 'leading' };

/** ᾱ_t from the definition; VP coefficients α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t), λ_t = log(α_t/σ_t). */
const alphaBar = sd1AlphaBar;
type Point = { alpha: number; sigma: number; lambda: number };
const vp = (t: number | 'clean'): Point => {
  if (t === 'clean') return { alpha: 1, sigma: 0, lambda: Infinity };
  const alpha = Math.sqrt(alphaBar[t]);
  const sigma = Math.sqrt(1 - alphaBar[t]);
  return { alpha, sigma, lambda: Math.log(alpha / sigma) };
};

/** A smooth, non-trivial stand-in for a UNet: ε(x, t). */
const toyModel = (x: Float32Array, t: number) => x.map((v, i) => 0.6 * Math.tanh(v) + 0.2 * Math.sin(i + t / 100));

function dpm(steps: number, overrides: Record<string, unknown> = {}): DpmSolverMultistepScheduler {
  const scheduler = new DpmSolverMultistepScheduler(resolveSchedulerConfig({ ...sd1, ...overrides }, 'dpmpp_2m').config);
  scheduler.setTimesteps(steps);
  return scheduler;
}

/**
 * DPM-Solver++(2M), Algorithm 2 of Lu et al. (arXiv:2211.01095), written from the paper:
 * D_i = (1 + 1/(2r_i)) x0_{i−1} − 1/(2r_i) x0_{i−2}, x_i = (σ_i/σ_{i−1}) x_{i−1} − α_i (e^{−h_i} − 1) D_i.
 * The first step, and the last when `firstOrderLast`, use D = x0_{i−1}.
 */
function paperDpmSolver2M(timesteps: readonly number[], end: Point, x: Float32Array, firstOrderLast: boolean) {
  const points = [...timesteps.map((t) => vp(t)), end];
  const trajectory: Float32Array[] = [];
  let previousX0: Float32Array | null = null;
  for (let i = 0; i < timesteps.length; i++) {
    const [s, t] = [points[i], points[i + 1]];
    const x0 = toyModel(x, timesteps[i]).map((e, k) => (x[k] - s.sigma * e) / s.alpha);
    const h = t.lambda - s.lambda;
    let D = x0;
    if (previousX0 && !(firstOrderLast && i === timesteps.length - 1)) {
      const r = (s.lambda - points[i - 1].lambda) / h;
      const prev = previousX0;
      D = x0.map((v, k) => (1 + 1 / (2 * r)) * v - (1 / (2 * r)) * prev[k]);
    }
    const ratio = t.sigma / s.sigma;
    x = x.map((v, k) => ratio * v - t.alpha * (Math.exp(-h) - 1) * D[k]);
    trajectory.push(x);
    previousX0 = x0;
  }
  return trajectory;
}

function runScheduler(scheduler: Scheduler, x: Float32Array): Float32Array[] {
  const trajectory: Float32Array[] = [];
  for (const t of scheduler.timesteps) {
    x = scheduler.step(toyModel(x, t), t, x).prevSample;
    trajectory.push(x);
  }
  return trajectory;
}

describe('DPM-Solver++(2M)', () => {
  const start = new NoiseGenerator(3).randn(48);

  it("matches the paper's Algorithm 2 step by step (20 steps to σ_min, no lower-order final step)", () => {
    const scheduler = dpm(20, { lower_order_final: false, final_sigmas_type: 'sigma_min' });
    const ours = runScheduler(scheduler, start);
    const paper = paperDpmSolver2M(scheduler.timesteps, vp(0), start, false);
    ours.forEach((x, i) => expect(maxAbsDiff(x, paper[i])).toBeLessThan(2e-5));
  });

  it('under 15 steps takes a first-order last step; final σ = 0 returns the clean estimate', () => {
    const scheduler = dpm(10);
    const ours = runScheduler(scheduler, start);
    const paper = paperDpmSolver2M(scheduler.timesteps, vp('clean'), start, true);
    ours.forEach((x, i) => expect(maxAbsDiff(x, paper[i])).toBeLessThan(2e-5));
  });

  it('"heun" weights equal the exact integral of the linearly extrapolated x0 (checked by quadrature)', () => {
    const scheduler = dpm(8, { solver_type: 'heun', final_sigmas_type: 'sigma_min', lower_order_final: false });
    const [t0, t1, t2] = scheduler.timesteps;
    const x0Of = (x: Float32Array, t: number) => toyModel(x, t).map((e, k) => (x[k] - vp(t).sigma * e) / vp(t).alpha);
    const firstX0 = x0Of(start, t0);
    const x1 = scheduler.step(toyModel(start, t0), t0, start).prevSample;
    const secondX0 = x0Of(x1, t1);
    const x2 = scheduler.step(toyModel(x1, t1), t1, x1).prevSample;
    // x_t = (σ_t/σ_s) x_s + σ_t ∫_{λ_s}^{λ_t} e^λ x̂0(λ) dλ, with x̂0 the line through (λ_t0, x0_0), (λ_t1, x0_1).
    const [p0, p1, p2] = [vp(t0), vp(t1), vp(t2)];
    const steps = 2000;
    const dl = (p2.lambda - p1.lambda) / steps;
    const expected = x1.map((v, k) => {
      const slope = (secondX0[k] - firstX0[k]) / (p1.lambda - p0.lambda);
      let integral = 0;
      for (let j = 0; j <= steps; j++) {
        const lambda = p1.lambda + j * dl;
        const weight = j === 0 || j === steps ? 1 : j % 2 === 1 ? 4 : 2; // Simpson's rule
        integral += weight * Math.exp(lambda) * (secondX0[k] + slope * (lambda - p1.lambda));
      }
      return (p2.sigma / p1.sigma) * v + (p2.sigma * (integral * dl)) / 3;
    });
    expect(maxAbsDiff(x2, expected)).toBeLessThan(1e-5);
  });

  it('converges at second order on Gaussian data, where the probability-flow ODE is solved exactly (DDIM: first order)', () => {
    // Data N(μ, s²): E[x0 | x_t] is affine, and the ODE keeps (x_t − √ᾱ_t μ)/√(ᾱ_t s² + 1 − ᾱ_t) constant.
    const [mu, s] = [0.5, 0.4];
    const variance = (a: number) => a * s * s + 1 - a;
    const gaussianEpsilon = (x: Float32Array, t: number) => {
      const a = alphaBar[t];
      return x.map((v) => {
        const meanX0 = mu + (Math.sqrt(a) * s * s * (v - Math.sqrt(a) * mu)) / variance(a);
        return (v - Math.sqrt(a) * meanX0) / Math.sqrt(1 - a);
      });
    };
    // "trailing" gives both samplers the grid 999 … down to t = 0 (DDIM: set_alpha_to_one=false; DPM: final σ_min).
    const config = { ...sd1, timestep_spacing: 'trailing', set_alpha_to_one: false, clip_sample: false, final_sigmas_type: 'sigma_min' };
    const error = (scheduler: Scheduler, steps: number) => {
      scheduler.setTimesteps(steps);
      let x: Float32Array = start.slice();
      for (const t of scheduler.timesteps) x = scheduler.step(gaussianEpsilon(x, t), t, x).prevSample;
      const [aT, a0] = [alphaBar[scheduler.timesteps[0]], alphaBar[0]];
      const exact = start.map((v) => Math.sqrt(a0) * mu + (Math.sqrt(variance(a0)) * (v - Math.sqrt(aT) * mu)) / Math.sqrt(variance(aT)));
      return maxAbsDiff(x, exact);
    };
    const ddim = new DdimScheduler(resolveSchedulerConfig(config, 'ddim').config);
    const dpmSolver = new DpmSolverMultistepScheduler(resolveSchedulerConfig(config, 'dpmpp_2m').config);
    const ddimRatio = error(ddim, 100) / error(ddim, 200);
    const dpmRatio = error(dpmSolver, 100) / error(dpmSolver, 200);
    expect(ddimRatio).toBeGreaterThan(1.8);
    expect(ddimRatio).toBeLessThan(2.2);
    expect(dpmRatio).toBeGreaterThan(2.8);
    expect(error(dpmSolver, 200)).toBeLessThan(error(ddim, 200) / 2);
  });

  it('resets its history on setTimesteps, so a second run repeats the first', () => {
    const scheduler = dpm(6);
    const first = runScheduler(scheduler, start);
    scheduler.setTimesteps(6);
    const second = runScheduler(scheduler, start);
    expect(Array.from(second[5])).toEqual(Array.from(first[5]));
  });

  it('a run that starts midway (img2img) takes a first-order first step: no x0 history yet', () => {
    const scheduler = dpm(10);
    const t = scheduler.timesteps[3];
    expect(scheduler.coefficients(3).c).not.toBe(0);
    const first = scheduler.coefficients(3, false);
    expect(first.c).toBe(0);
    const { prevSample } = scheduler.step(toyModel(start, t), t, start);
    expect(Array.from(prevSample)).toEqual(Array.from(applyCoefficients(first, toyModel(start, t), start).prevSample));
  });
});
