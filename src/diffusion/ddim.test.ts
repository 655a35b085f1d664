import { describe, expect, it } from 'vitest';
import { DdimScheduler } from './ddim';
import { NoiseGenerator } from './random';
import { NonlinearStepError } from './scheduler';
import { resolveSchedulerConfig } from './schedulerConfig';
import { maxAbsDiff } from '../testing/numeric';
import { SD1_SCHEDULER_CONFIG as sd1, sd1AlphaBar as alphaBar } from './testing/sd1';

/** Data distribution = a point mass at x0star: the exact noise predictor is ε(x_t, t) = (x_t − √ᾱ_t x0*) / √(1 − ᾱ_t). */
function pointMassEpsilon(x0star: Float32Array, x: Float32Array, t: number): Float32Array {
  const a = alphaBar[t];
  return x.map((v, i) => (v - Math.sqrt(a) * x0star[i]) / Math.sqrt(1 - a));
}

function ddim(overrides: Record<string, unknown> = {}, eta = 0, steps = 25): DdimScheduler {
  const scheduler = new DdimScheduler(resolveSchedulerConfig({ ...sd1, ...overrides }, 'ddim').config, { eta });
  scheduler.setTimesteps(steps);
  return scheduler;
}

const x0star = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 0.9);
const startNoise = new NoiseGenerator(42).randn(64);

describe('DDIM (eta = 0) on an exact point-mass model', () => {
  it('lands exactly on x0* when the last step uses ᾱ = 1 (set_alpha_to_one)', () => {
    const scheduler = ddim({ set_alpha_to_one: true });
    let x: Float32Array = startNoise.slice();
    for (const t of scheduler.timesteps) x = scheduler.step(pointMassEpsilon(x0star, x, t), t, x).prevSample;
    expect(maxAbsDiff(x, x0star)).toBeLessThan(1e-5);
  });

  it('follows the closed form x_s = √ᾱ_s x0* + √(1 − ᾱ_s) ε at every step, ending at ᾱ_0 for SD (set_alpha_to_one=false)', () => {
    const scheduler = ddim();
    const first = scheduler.timesteps[0];
    let x: Float32Array = x0star.map((v, i) => Math.sqrt(alphaBar[first]) * v + Math.sqrt(1 - alphaBar[first]) * startNoise[i]);
    const steps = scheduler.timesteps;
    steps.forEach((t, k) => {
      const { prevSample, predOriginalSample } = scheduler.step(pointMassEpsilon(x0star, x, t), t, x);
      expect(maxAbsDiff(predOriginalSample, x0star)).toBeLessThan(1e-4);
      const s = k + 1 < steps.length ? steps[k + 1] : 0;
      const expected = x0star.map((v, i) => Math.sqrt(alphaBar[s]) * v + Math.sqrt(1 - alphaBar[s]) * startNoise[i]);
      expect(maxAbsDiff(prevSample, expected)).toBeLessThan(1e-5);
      x = prevSample;
    });
  });

  it('lands on x0* with a v-prediction model too (v = √ᾱ ε − √(1 − ᾱ) x0)', () => {
    const scheduler = ddim({ set_alpha_to_one: true, prediction_type: 'v_prediction' });
    let x: Float32Array = startNoise.slice();
    for (const t of scheduler.timesteps) {
      const a = alphaBar[t];
      const eps = pointMassEpsilon(x0star, x, t);
      const v = eps.map((e, i) => Math.sqrt(a) * e - Math.sqrt(1 - a) * x0star[i]);
      x = scheduler.step(v, t, x).prevSample;
    }
    expect(maxAbsDiff(x, x0star)).toBeLessThan(1e-4);
  });
});

describe('DDIM step formula', () => {
  it('with eta = 1 adds σ_t z, σ_t² = (1 − ᾱ_prev)/(1 − ᾱ_t) · (1 − ᾱ_t/ᾱ_prev), and shrinks the direction term', () => {
    const scheduler = ddim({}, 1, 10);
    const t = scheduler.timesteps[3];
    const prevT = t - 100;
    const x = new NoiseGenerator(5).randn(64);
    const eps = new NoiseGenerator(6).randn(64);
    const { prevSample } = scheduler.step(eps, t, x, { generator: new NoiseGenerator(7) });
    const z = new NoiseGenerator(7).randn(64);
    const [a, ap] = [alphaBar[t], alphaBar[prevT]];
    const variance = ((1 - ap) / (1 - a)) * (1 - a / ap);
    const expected = x.map(
      (xi, i) => Math.sqrt(ap) * ((xi - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a)) + Math.sqrt(1 - ap - variance) * eps[i] + Math.sqrt(variance) * z[i],
    );
    expect(maxAbsDiff(prevSample, expected)).toBeLessThan(1e-5);
  });

  it('clip_sample clamps the predicted x0', () => {
    const scheduler = ddim({ clip_sample: true, clip_sample_range: 0.5 });
    const t = scheduler.timesteps[0];
    const x = new Float32Array(8).fill(3);
    const { predOriginalSample } = scheduler.step(new Float32Array(8), t, x);
    expect(Array.from(predOriginalSample)).toEqual(new Array(8).fill(0.5));
  });

  it('says clip_sample is outside the linear step form: coefficients() throws a NonlinearStepError', () => {
    expect(() => ddim({ clip_sample: true }).coefficients(0)).toThrow(NonlinearStepError);
    expect(ddim().coefficients(0)).toMatchObject({ timestep: 961, cin: 1, c: 0, s: 0 });
  });

  it('needs setTimesteps first, a generator when eta > 0, and matching sizes', () => {
    const fresh = new DdimScheduler(resolveSchedulerConfig(sd1, 'ddim').config);
    expect(() => fresh.step(new Float32Array(4), 1, new Float32Array(4))).toThrow(/setTimesteps/);
    const noisy = ddim({}, 0.5);
    expect(() => noisy.step(new Float32Array(4), noisy.timesteps[0], new Float32Array(4))).toThrow(/generator/);
    expect(() => noisy.step(new Float32Array(4), noisy.timesteps[0], new Float32Array(5))).toThrow(/values/);
    expect(() => new DdimScheduler(resolveSchedulerConfig(sd1, 'ddim').config, { eta: 2 })).toThrow(/eta/);
  });
});
