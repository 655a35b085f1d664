import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NoiseGenerator, randnForBatch } from './random';
import { maxAbsDiff } from '../testing/numeric';

interface TensorRecord {
  shape: number[];
  data: number[];
}
const reference = JSON.parse(readFileSync('fixtures/diffusers-tiny-sd/reference_io.json', 'utf8')) as {
  unet: { inputs: { sample: TensorRecord; encoder_hidden_states: TensorRecord } };
};

describe('NoiseGenerator', () => {
  it('state round trip: a generator restored mid-stream continues exactly as the original (through JSON)', () => {
    const g = new NoiseGenerator(1234);
    g.randn(37);
    g.randint(0, 1000, 5);
    const restored = NoiseGenerator.fromState(JSON.parse(JSON.stringify(g.state())) as ReturnType<NoiseGenerator['state']>);
    expect(restored.seed).toBe(1234);
    expect(Array.from(restored.randn(50))).toEqual(Array.from(g.randn(50)));
    expect(Array.from(restored.randint(0, 1000, 20))).toEqual(Array.from(g.randint(0, 1000, 20)));
    // and differs from a fresh stream of the same seed
    expect(Array.from(new NoiseGenerator(1234).randn(8))).not.toEqual(Array.from(NoiseGenerator.fromState(g.state()).randn(8)));
    expect(() => NoiseGenerator.fromState({ seed: 1, mt: [1, 2, 3] })).toThrow(/not an MT19937 state/);
  });

  it('is MT19937: the 10000th output for the default seed 5489 is 4123659995 (C++ standard, [rand.predef])', () => {
    const g = new NoiseGenerator(5489);
    let value = 0;
    for (let i = 0; i < 10000; i++) value = g.nextUint32();
    expect(value).toBe(4123659995);
  });

  it('reproduces torch.randn on CPU: the fixture UNet inputs were drawn by PyTorch from seed 1', () => {
    // fixtures/diffusers-tiny-sd/reference_io.json: sample [2,4,32,32], then encoder_hidden_states [2,77,32].
    const { sample, encoder_hidden_states: states } = reference.unet.inputs;
    const g = new NoiseGenerator(1);
    const drawnSample = g.randn(sample.data.length);
    const drawnStates = g.randn(states.data.length);
    expect(maxAbsDiff(drawnSample, sample.data)).toBeLessThan(1e-5);
    expect(maxAbsDiff(drawnStates, states.data)).toBeLessThan(1e-5);
  });

  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new NoiseGenerator(123).randn(1000);
    const b = new NoiseGenerator(123).randn(1000);
    const c = new NoiseGenerator(124).randn(1000);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(maxAbsDiff(a, c)).toBeGreaterThan(1);
    expect(a.filter((v, i) => v === c[i]).length).toBe(0);
  });

  it('draws standard normals: mean ≈ 0, variance ≈ 1, no skew, Gaussian kurtosis (1e5 samples)', () => {
    const n = 100_000;
    const x = new NoiseGenerator(7).randn(n);
    let m1 = 0;
    for (const v of x) m1 += v;
    m1 /= n;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (const v of x) {
      const d = v - m1;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    // Standard errors at n = 1e5: mean 0.0032, variance 0.0045, skewness 0.0077, kurtosis 0.015.
    expect(Math.abs(m1)).toBeLessThan(0.015);
    expect(Math.abs(m2 - 1)).toBeLessThan(0.02);
    expect(Math.abs(m3 / m2 ** 1.5)).toBeLessThan(0.04);
    expect(Math.abs(m4 / (m2 * m2) - 3)).toBeLessThan(0.08);
  });

  it('handles lengths that are not multiples of 16 and shorter than 16', () => {
    expect(new NoiseGenerator(3).randn(37).every(Number.isFinite)).toBe(true);
    expect(new NoiseGenerator(3).randn(5)).toHaveLength(5);
  });

  it('randint stays in range and is close to uniform (chi-square, 10 bins, 1e5 draws)', () => {
    const draws = new NoiseGenerator(11).randint(5, 15, 100_000);
    const counts = new Array<number>(10).fill(0);
    expect(draws.every((d) => d >= 5 && d < 15)).toBe(true);
    for (const d of draws) counts[d - 5]++;
    const chi2 = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi2).toBeLessThan(27.9); // 99.9th percentile of chi-square with 9 degrees of freedom
  });

  it('rejects seeds that are not unsigned 32-bit integers', () => {
    expect(() => new NoiseGenerator(-1)).toThrow(/seed/);
    expect(() => new NoiseGenerator(1.5)).toThrow(/seed/);
    expect(() => new NoiseGenerator(2 ** 32)).toThrow(/seed/);
  });
});

describe('randnForBatch', () => {
  it('with one generator per item, each item depends only on its own seed', () => {
    const per = 64;
    const batch = randnForBatch(3 * per, [new NoiseGenerator(10), new NoiseGenerator(20), new NoiseGenerator(30)]);
    expect(Array.from(batch.subarray(per, 2 * per))).toEqual(Array.from(new NoiseGenerator(20).randn(per)));
    const other = randnForBatch(2 * per, [new NoiseGenerator(99), new NoiseGenerator(20)]);
    expect(Array.from(other.subarray(per))).toEqual(Array.from(batch.subarray(per, 2 * per)));
  });

  it('rejects a batch that does not split evenly', () => {
    expect(() => randnForBatch(10, [new NoiseGenerator(1), new NoiseGenerator(2), new NoiseGenerator(3)])).toThrow(/evenly/);
  });
});
