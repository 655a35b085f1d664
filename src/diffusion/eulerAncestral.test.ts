import { describe, expect, it } from 'vitest';
import { EulerAncestralScheduler } from './eulerAncestral';
import { NoiseGenerator } from './random';
import { resolveSchedulerConfig } from './schedulerConfig';
import { maxAbsDiff } from '../testing/numeric';
import { SD1_SCHEDULER_CONFIG } from './testing/sd1';

/** σ_t = √((1 − ᾱ_t)/ᾱ_t) from the definition, and linear interpolation between integer t (k-diffusion's t_to_sigma). */
const trainSigmas = (() => {
  const out: number[] = [];
  let prod = 1;
  for (let t = 0; t < 1000; t++) {
    const root = Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * t) / 999;
    prod *= 1 - root * root;
    out.push(Math.sqrt((1 - prod) / prod));
  }
  return out;
})();
const sigmaAt = (t: number) => {
  const lo = Math.floor(t);
  return lo === t ? trainSigmas[t] : trainSigmas[lo] + (t - lo) * (trainSigmas[lo + 1] - trainSigmas[lo]);
};

function euler(spacing: 'leading' | 'linspace' | 'trailing', steps: number, overrides: Record<string, unknown> = {}) {
  const scheduler = new EulerAncestralScheduler(resolveSchedulerConfig({ ...SD1_SCHEDULER_CONFIG, timestep_spacing: spacing, ...overrides }, 'euler_a').config);
  scheduler.setTimesteps(steps);
  return scheduler;
}

describe('Euler ancestral', () => {
  it('initial noise: σ_max for "linspace"/"trailing", √(σ_max² + 1) for "leading" (which starts below t = 999)', () => {
    expect(euler('linspace', 20).initNoiseSigma).toBeCloseTo(trainSigmas[999], 6);
    expect(euler('trailing', 20).initNoiseSigma).toBeCloseTo(trainSigmas[999], 6);
    expect(euler('leading', 50).initNoiseSigma).toBeCloseTo(Math.sqrt(trainSigmas[981] ** 2 + 1), 6);
  });

  it('scales the model input by 1/√(σ² + 1)', () => {
    const scheduler = euler('linspace', 20);
    const t = scheduler.timesteps[0];
    const x = new NoiseGenerator(1).randn(16);
    const scaled = scheduler.scaleModelInput(x, t);
    expect(
      maxAbsDiff(
        scaled,
        x.map((v) => v / Math.sqrt(sigmaAt(999) ** 2 + 1)),
      ),
    ).toBeLessThan(1e-6);
  });

  it("one step equals k-diffusion's sample_euler_ancestral update at fractional timesteps", () => {
    const scheduler = euler('linspace', 20);
    const [t0, t1] = scheduler.timesteps;
    const x = new NoiseGenerator(2).randn(64).map((v) => v * 14);
    const eps = new NoiseGenerator(3).randn(64);
    const { prevSample, predOriginalSample } = scheduler.step(eps, t0, x, { generator: new NoiseGenerator(4) });
    const z = new NoiseGenerator(4).randn(64);
    const [from, to] = [sigmaAt(t0), sigmaAt(t1)];
    // k_diffusion.sampling.get_ancestral_step with eta = 1
    const up = Math.min(to, Math.sqrt((to ** 2 * (from ** 2 - to ** 2)) / from ** 2));
    const down = Math.sqrt(to ** 2 - up ** 2);
    const denoised = x.map((v, i) => v - from * eps[i]);
    const expected = x.map((v, i) => v + ((v - denoised[i]) / from) * (down - from) + z[i] * up);
    expect(maxAbsDiff(predOriginalSample, denoised)).toBeLessThan(1e-5);
    expect(maxAbsDiff(prevSample, expected)).toBeLessThan(1e-4);
  });

  it('on an exact point-mass model, keeps x − x0* at the next σ and ends exactly on x0*', () => {
    const n = 20_000;
    const x0star = new Float32Array(n).fill(0.3);
    const scheduler = euler('leading', 10);
    const generator = new NoiseGenerator(9);
    let x: Float32Array = new NoiseGenerator(8).randn(n).map((v, i) => x0star[i] + v * sigmaAt(scheduler.timesteps[0]));
    scheduler.timesteps.forEach((t, k) => {
      const sigma = sigmaAt(t);
      const eps = x.map((v, i) => (v - x0star[i]) / sigma); // x_σ = x0 + σ ε in Euler's variable
      x = scheduler.step(eps, t, x, { generator }).prevSample;
      const next = k + 1 < scheduler.timesteps.length ? sigmaAt(scheduler.timesteps[k + 1]) : 0;
      let sumSq = 0;
      for (let i = 0; i < n; i++) sumSq += (x[i] - x0star[i]) ** 2;
      // The spread of x − x0* is the next σ (σ_down² + σ_up² = σ_next²); 2% is ~3 standard errors at n = 2e4.
      if (next > 0) expect(Math.abs(Math.sqrt(sumSq / n) / next - 1)).toBeLessThan(0.02);
    });
    expect(maxAbsDiff(x, x0star)).toBeLessThan(1e-5);
  });

  it('supports v-prediction: x0 = −σ/√(σ²+1) · v + x/(σ²+1)', () => {
    const scheduler = euler('linspace', 10, { prediction_type: 'v_prediction' });
    const t = scheduler.timesteps[0];
    const sigma = sigmaAt(t);
    const x = new NoiseGenerator(2).randn(32);
    const v = new NoiseGenerator(3).randn(32);
    const { predOriginalSample } = scheduler.step(v, t, x, { generator: new NoiseGenerator(1) });
    const expected = x.map((xi, i) => (-sigma / Math.sqrt(sigma ** 2 + 1)) * v[i] + xi / (sigma ** 2 + 1));
    expect(maxAbsDiff(predOriginalSample, expected)).toBeLessThan(1e-5);
  });

  it('requires a generator and steps in schedule order', () => {
    const scheduler = euler('leading', 10);
    const [t0, t1] = scheduler.timesteps;
    expect(() => scheduler.step(new Float32Array(4), t0, new Float32Array(4))).toThrow(/generator/);
    const generator = new NoiseGenerator(1);
    scheduler.step(new Float32Array(4), t0, new Float32Array(4).fill(1), { generator });
    expect(() => scheduler.step(new Float32Array(4), t0, new Float32Array(4), { generator })).toThrow(/out of order/);
    scheduler.step(new Float32Array(4), t1, new Float32Array(4).fill(1), { generator });
  });
});
