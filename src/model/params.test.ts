import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../engine/graph';
import { ModelParams, initialValues, normal, torchDefault } from './params';

function moments(a: Float32Array): { mean: number; std: number; maxAbs: number } {
  let s = 0;
  let s2 = 0;
  let m = 0;
  for (const v of a) {
    s += v;
    s2 += v * v;
    m = Math.max(m, Math.abs(v));
  }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(s2 / a.length - mean * mean), maxAbs: m };
}

describe('seeded initialisation', () => {
  it('depends only on the seed and the parameter name', () => {
    const a = initialValues(1, 'conv_in.weight', 1000, torchDefault(36));
    expect(initialValues(1, 'conv_in.weight', 1000, torchDefault(36))).toEqual(a);
    expect(initialValues(2, 'conv_in.weight', 1000, torchDefault(36))).not.toEqual(a);
    expect(initialValues(1, 'conv_out.weight', 1000, torchDefault(36))).not.toEqual(a);
  });

  it("draws PyTorch's default uniform bound 1/√fan_in and normal std as asked", () => {
    const fanIn = 64 * 9;
    const u = moments(initialValues(0, 'w', 200_000, torchDefault(fanIn)));
    const bound = 1 / Math.sqrt(fanIn);
    expect(u.maxAbs).toBeLessThanOrEqual(bound);
    expect(u.maxAbs).toBeGreaterThan(0.999 * bound);
    expect(Math.abs(u.mean)).toBeLessThan(0.01 * bound);
    expect(u.std / (bound / Math.sqrt(3))).toBeCloseTo(1, 2); // U(-b, b) has std b/√3
    const n = moments(initialValues(0, 'e', 200_001, normal(0.02)));
    expect(Math.abs(n.mean)).toBeLessThan(0.0002);
    expect(n.std / 0.02).toBeCloseTo(1, 2);
  });
});

describe('ModelParams', () => {
  it('shares one graph parameter per name, with the chosen prefix and group', () => {
    const g = new GraphBuilder('t');
    const p = new ModelParams(g, { kind: 'seeded', seed: 0 }, { prefix: 'unet.', group: (n) => (n.includes('to_q') ? 'trainable' : 'frozen') });
    const a = p.param('attn.to_q.weight', [4, 4], torchDefault(4));
    expect(p.param('attn.to_q.weight', [4, 4], torchDefault(4))).toBe(a);
    p.param('attn.to_k.weight', [4, 4], torchDefault(4));
    expect(g.parameters('trainable').map((i) => i.tensor.name)).toEqual(['unet.attn.to_q.weight']);
    expect(g.parameters('frozen').map((i) => i.tensor.name)).toEqual(['unet.attn.to_k.weight']);
    expect(() => p.param('attn.to_q.weight', [4, 2], torchDefault(4))).toThrow('parameter attn.to_q.weight requested as [4,2] and as [4,4]');
  });

  it('uses loaded tensors by unprefixed name and lists what is wrong', () => {
    const g = new GraphBuilder('t');
    const w = new Float32Array([1, 2, 3, 4]);
    const tensors = new Map([
      ['a', { shape: [2, 2], data: w }],
      ['extra', { shape: [1], data: new Float32Array(1) }],
    ]);
    const p = new ModelParams(g, { kind: 'weights', tensors }, { prefix: 'x.' });
    expect(g.initializerOf(p.param('a', [2, 2], torchDefault(2)))!.data).toBe(w);
    p.param('b', [3], torchDefault(2));
    expect(() => p.check('model')).toThrow('model: missing tensor "b" [3]; unexpected tensor "extra" (not a parameter of this model)');
    expect(() => p.check('model', (n) => n === 'extra')).toThrow(/^model: missing tensor "b" \[3\]$/);
  });
});
