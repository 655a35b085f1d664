/** Finite-difference tests for the normalization section of the gradient table (rules.ts), and GroupNorm built on it. */
import { describe, expect, test } from 'vitest';
import { fdCheck, paramOf as p, type FdCase } from './fdCheck';

const cases: Record<string, FdCase> = {
  'LayerNormalization last axis, scale + bias': {
    build: (g, r) => ({ out: g.layerNorm(p(g, r, 'x', [2, 3, 5]), p(g, r, 's', [5], 0.5, 1), p(g, r, 'b', [5])) }),
  },
  'LayerNormalization axis 1, no bias': {
    build: (g, r) => ({ out: g.layerNorm(p(g, r, 'x', [2, 3, 4]), p(g, r, 's', [3, 4], 0.5, 1), null, { axis: 1 }) }),
  },
  'LayerNormalization unit constant scale (x̂ reused)': {
    build: (g, r) => ({ out: g.layerNorm(p(g, r, 'x', [3, 6]), g.full([6], 1)) }),
  },
  InstanceNormalization: {
    build: (g, r) => ({ out: g.instanceNorm(p(g, r, 'x', [2, 3, 3, 4]), p(g, r, 's', [3], 0.5, 1), p(g, r, 'b', [3])) }),
  },
  'InstanceNormalization over 64×64 (means summed in blocks)': {
    build: (g, r) => ({ out: g.instanceNorm(p(g, r, 'x', [1, 2, 64, 64]), p(g, r, 's', [2], 0.5, 1), p(g, r, 'b', [2])) }),
    coords: 2,
  },
  'LayerNormalization over 4099 values (blocked means, zero-padded last block)': {
    build: (g, r) => ({ out: g.layerNorm(p(g, r, 'x', [2, 4099]), p(g, r, 's', [4099], 0.5, 1), p(g, r, 'b', [4099])) }),
    coords: 2,
  },
  'groupNorm 2 groups, gamma + beta': {
    build: (g, r) => ({ out: g.groupNorm(p(g, r, 'x', [2, 4, 3, 3]), 2, p(g, r, 'gamma', [4], 0.5, 1), p(g, r, 'beta', [4])) }),
  },
  'groupNorm → SiLU (ResBlock head)': {
    build: (g, r) => ({ out: g.silu(g.groupNorm(p(g, r, 'x', [1, 6, 4, 4]), 3, p(g, r, 'gamma', [6], 0.5, 1), p(g, r, 'beta', [6]))) }),
  },
};

describe('normalization gradient rules match central differences', () => {
  test.each(Object.entries(cases))('%s', async (_, c) => {
    const r = await fdCheck(c);
    expect(r.failures).toEqual([]);
  });
});
