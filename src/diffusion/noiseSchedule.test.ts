import { describe, expect, it } from 'vitest';
import { buildNoiseSchedule, linspace } from './noiseSchedule';
import type { NoiseScheduleConfig } from './schedulerConfig';

const sd: NoiseScheduleConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  trained_betas: null,
  prediction_type: 'epsilon',
};

describe('buildNoiseSchedule', () => {
  it('SD scaled-linear: β runs from 0.00085 to 0.012 with √β linear in t', () => {
    const { betas } = buildNoiseSchedule(sd);
    expect(betas[0]).toBeCloseTo(0.00085, 12);
    expect(betas[999]).toBeCloseTo(0.012, 12);
    const root = (t: number) => Math.sqrt(betas[t]);
    expect(root(500) - root(499)).toBeCloseTo((Math.sqrt(0.012) - Math.sqrt(0.00085)) / 999, 12);
  });

  it('ᾱ is the running product of 1 − β; SD ends near ᾱ = 0.0047 (its known terminal SNR ≈ 0.0047)', () => {
    const { betas, alphasCumprod } = buildNoiseSchedule(sd);
    const logSum = betas.reduce((s, b) => s + Math.log(1 - b), 0);
    expect(alphasCumprod[999]).toBeCloseTo(Math.exp(logSum), 12);
    expect(alphasCumprod[999]).toBeGreaterThan(0.0045);
    expect(alphasCumprod[999]).toBeLessThan(0.0048);
    for (let t = 1; t < 1000; t++) expect(alphasCumprod[t]).toBeLessThan(alphasCumprod[t - 1]);
  });

  it('linear, cosine and trained betas', () => {
    const linear = buildNoiseSchedule({ ...sd, beta_schedule: 'linear', beta_start: 0.0001, beta_end: 0.02 });
    expect(linear.betas[500]).toBeCloseTo(0.0001 + (500 * (0.02 - 0.0001)) / 999, 12);
    const cosine = buildNoiseSchedule({ ...sd, beta_schedule: 'squaredcos_cap_v2' });
    const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    expect(cosine.alphasCumprod[499]).toBeCloseTo(f(0.5) / f(0), 6);
    const trained = buildNoiseSchedule({ ...sd, num_train_timesteps: 3, trained_betas: [0.1, 0.2, 0.5] });
    expect(Array.from(trained.alphasCumprod)).toEqual([0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.5]);
  });

  it('linspace includes both ends', () => {
    expect(Array.from(linspace(0, 1, 5))).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });
});
