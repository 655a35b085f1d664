import { describe, expect, it } from 'vitest';
import { buildNoiseSchedule } from './noiseSchedule';
import { NoiseGenerator } from './random';
import { resolveNoiseScheduleConfig } from './schedulerConfig';
import { addNoise, minSnrWeights, sampleTrainingTimesteps } from './trainingNoise';

const schedule = buildNoiseSchedule(
  resolveNoiseScheduleConfig({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, num_train_timesteps: 1000 }).config,
);

describe('addNoise', () => {
  it("mixes x0 and noise as √ᾱ_t x0 + √(1 − ᾱ_t) ε with each item's own timestep", () => {
    const x0 = Float32Array.from([1, 1, -2, -2]);
    const noise = Float32Array.from([0.5, -0.5, 1, 0]);
    // ᾱ at t = 0 is 1 − β_0 = 1 − 0.00085; at t = 1 it is (1 − 0.00085)(1 − β_1), β_1 from the scaled-linear formula.
    const a0 = 1 - 0.00085;
    const b1 = (Math.sqrt(0.00085) + (Math.sqrt(0.012) - Math.sqrt(0.00085)) / 999) ** 2;
    const a1 = a0 * (1 - b1);
    const out = addNoise(schedule, x0, noise, [0, 1]);
    const expected = [
      Math.sqrt(a0) * 1 + Math.sqrt(1 - a0) * 0.5,
      Math.sqrt(a0) * 1 - Math.sqrt(1 - a0) * 0.5,
      Math.sqrt(a1) * -2 + Math.sqrt(1 - a1) * 1,
      Math.sqrt(a1) * -2,
    ];
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
  });

  it('keeps unit variance for unit-variance data (variance preserving)', () => {
    const n = 50_000;
    const x = addNoise(schedule, new NoiseGenerator(1).randn(n), new NoiseGenerator(2).randn(n), [600]);
    const variance = x.reduce((s, v) => s + v * v, 0) / n;
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });

  it('rejects bad timesteps and shapes', () => {
    expect(() => addNoise(schedule, new Float32Array(4), new Float32Array(4), [1000, 0])).toThrow(/timestep 1000/);
    expect(() => addNoise(schedule, new Float32Array(4), new Float32Array(3), [1])).toThrow(/noise/);
    expect(() => addNoise(schedule, new Float32Array(5), new Float32Array(5), [1, 2])).toThrow(/batch/);
  });
});

describe('sampleTrainingTimesteps', () => {
  it('draws integers in [0, N) reproducibly from the seed, covering the whole range', () => {
    const a = sampleTrainingTimesteps(new NoiseGenerator(5), schedule, 5000);
    const b = sampleTrainingTimesteps(new NoiseGenerator(5), schedule, 5000);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Math.min(...a)).toBeLessThan(10);
    expect(Math.max(...a)).toBeGreaterThan(989);
    expect(a.every((t) => t >= 0 && t < 1000)).toBe(true);
  });
});

describe('minSnrWeights', () => {
  it('is min(SNR, γ)/SNR: 1 where the noise dominates, γ/SNR where the signal does', () => {
    const ts = [0, 50, 200, 500, 999];
    const w = minSnrWeights(schedule, ts, 5);
    ts.forEach((t, b) => {
      // SNR from the noisy sample's own parts: signal √ᾱ, noise √(1 − ᾱ) (addNoise's coefficients).
      const mixed = addNoise(schedule, Float32Array.of(1, 0), Float32Array.of(0, 1), [t]);
      const snr = (mixed[0]! / mixed[1]!) ** 2;
      expect(w[b]).toBeCloseTo(snr > 5 ? 5 / snr : 1, 5);
    });
    expect(w[0]).toBeLessThan(0.01); // t = 0 is almost noise-free
    expect(w[4]).toBe(1);
  });

  it('rejects a non-positive γ and timesteps outside the schedule', () => {
    expect(() => minSnrWeights(schedule, [1], 0)).toThrow(/gamma/);
    expect(() => minSnrWeights(schedule, [1000], 5)).toThrow(/timestep 1000/);
  });
});
