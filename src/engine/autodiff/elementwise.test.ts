/** Finite-difference tests for the elementwise section of the gradient table (rules.ts). */
import { describe, expect, test } from 'vitest';
import { fdCheck, paramOf as p, type FdCase } from './fdCheck';

const cases: Record<string, FdCase> = {
  'Add broadcast': { build: (g, r) => ({ out: g.add(p(g, r, 'a', [2, 3, 4]), p(g, r, 'b', [3, 1])) }) },
  'Add broadcast to a [1, 1] operand (every axis summed)': {
    build: (g, r) => ({ out: g.mul(g.add(p(g, r, 'a', [2, 3]), p(g, r, 'b', [1, 1])), p(g, r, 'c', [2, 3])) }),
  },
  'Add broadcast to a [3, 1, 1] operand (leading and inner axes summed)': {
    build: (g, r) => ({ out: g.mul(g.add(p(g, r, 'a', [2, 3, 4, 5]), p(g, r, 'b', [3, 1, 1])), p(g, r, 'c', [2, 3, 4, 5])) }),
  },
  'Sub broadcast both ways': { build: (g, r) => ({ out: g.sub(p(g, r, 'a', [2, 1, 4]), p(g, r, 'b', [3, 1])) }) },
  'Mul broadcast, same tensor twice': {
    build: (g, r) => {
      const a = p(g, r, 'a', [2, 3, 4]);
      return { out: g.mul(g.mul(a, p(g, r, 'b', [4])), a) };
    },
  },
  'Div broadcast': { build: (g, r) => ({ out: g.div(p(g, r, 'a', [2, 3]), p(g, r, 'b', [3], 0.2, 2)) }) },
  Neg: { build: (g, r) => ({ out: g.neg(p(g, r, 'a', [5])) }) },
  Sqrt: { build: (g, r) => ({ out: g.sqrt(p(g, r, 'a', [6], 0.2, 1.5)) }) },
  'Pow 2, 3, -0.5': {
    build: (g, r) => {
      const a = p(g, r, 'a', [6], 0.2, 1.5);
      return { out: g.add(g.add(g.pow(a, 2), g.pow(a, 3)), g.pow(a, -0.5)) };
    },
  },
  Exp: { build: (g, r) => ({ out: g.exp(p(g, r, 'a', [2, 3])) }) },
  Log: { build: (g, r) => ({ out: g.log(p(g, r, 'a', [6], 0.2, 1.5)) }) },
  Sigmoid: { build: (g, r) => ({ out: g.sigmoid(p(g, r, 'a', [2, 5])) }) },
  Tanh: { build: (g, r) => ({ out: g.tanh(p(g, r, 'a', [2, 5])) }) },
  Erf: { build: (g, r) => ({ out: g.erf(p(g, r, 'a', [2, 5])) }) },
  'SiLU (composite)': { build: (g, r) => ({ out: g.silu(p(g, r, 'a', [2, 5])) }) },
  'GELU erf and tanh (composite)': {
    build: (g, r) => {
      const a = p(g, r, 'a', [2, 5]);
      return { out: g.add(g.gelu(a), g.gelu(a, 'tanh')) };
    },
  },
  'QuickGELU (composite)': { build: (g, r) => ({ out: g.quickGelu(p(g, r, 'a', [2, 5])) }) },
  'Softmax axis 1': { build: (g, r) => ({ out: g.softmax(p(g, r, 'a', [2, 4, 3]), 1) }) },
  'Where with Less mask, broadcast': {
    build: (g, r) => {
      const mask = g.less(g.constant(r.randn(12), [3, 4]), 0);
      return { out: g.where(mask, p(g, r, 'a', [2, 3, 4]), p(g, r, 'b', [4])) };
    },
  },
  'Clip: rows below, inside and above the bounds': {
    build: (g, r) => {
      const x = g.add(p(g, r, 'a', [3, 4], 0.1), g.constant([-2, 0, 2], [3, 1]));
      return { out: g.node('Clip', [x, g.scalar(-1), g.scalar(1)], [x])[0]! };
    },
  },
  'Cast round trip stops at int, passes float': {
    build: (g, r) => {
      const a = p(g, r, 'a', [2, 3]);
      const frozenMask = g.cast(g.cast(g.less(a, 0), 'int32'), 'float32'); // no gradient through the mask
      return { out: g.mul(a, g.add(frozenMask, 1)) };
    },
  },
};

describe('elementwise gradient rules match central differences', () => {
  test.each(Object.entries(cases))('%s', async (_, c) => {
    const r = await fdCheck(c);
    expect(r.failures).toEqual([]);
    expect(r.probes).toBeGreaterThan(0);
  });
});
