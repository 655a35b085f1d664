/** Finite-difference tests for the reduction and shape section of the gradient table (rules.ts). */
import { describe, expect, test } from 'vitest';
import { fdCheck, paramOf as p, type FdCase } from './fdCheck';

const cases: Record<string, FdCase> = {
  'ReduceSum keepdims': { build: (g, r) => ({ out: g.reduceSum(p(g, r, 'a', [2, 3, 4]), [0, 2]) }) },
  'ReduceMean no keepdims': { build: (g, r) => ({ out: g.reduceMean(p(g, r, 'a', [2, 3, 4]), [-1, 1], false) }) },
  'Reshape + Transpose': {
    build: (g, r) => ({ out: g.transpose(g.reshape(p(g, r, 'a', [2, 3, 4]), [4, 6]), [1, 0]) }),
  },
  'Transpose rank 4': { build: (g, r) => ({ out: g.transpose(p(g, r, 'a', [2, 3, 4, 5]), [2, 0, 3, 1]) }) },
  'Concat of three (one reused)': {
    build: (g, r) => {
      const a = p(g, r, 'a', [2, 3, 2]);
      return { out: g.concat([a, p(g, r, 'b', [2, 1, 2]), g.mul(a, a)], 1) };
    },
  },
  'Split with an unused piece': {
    build: (g, r) => {
      const [s0, , s2] = g.split(p(g, r, 'a', [2, 7]), [2, 3, 2], 1);
      return { out: g.mul(s0!, s2!) };
    },
  },
  'Slice (negative start, clamped end)': {
    build: (g, r) => ({ out: g.slice(p(g, r, 'a', [3, 5, 4]), [1, -4], [3, 100], [0, 1]) }),
  },
  Pad: { build: (g, r) => ({ out: g.pad(p(g, r, 'a', [2, 3]), [1, 0, 2, 3], 0.5) }) },
  'Unsqueeze + Squeeze': {
    build: (g, r) => ({ out: g.squeeze(g.unsqueeze(p(g, r, 'a', [3, 4]), [0, 2]), [0]) }),
  },
  Expand: { build: (g, r) => ({ out: g.expand(p(g, r, 'a', [3, 1]), [2, 3, 4]) }) },
  'Resize nearest 2x (and 3x on one axis)': {
    build: (g, r) => ({ out: g.resizeNearest(p(g, r, 'a', [2, 2, 3, 2]), [1, 1, 2, 3]) }),
  },
  'Gather embedding lookup, repeated ids': {
    build: (g, r) => {
      const table = p(g, r, 'table', [6, 4]);
      const ids = g.constant([5, 0, 2, 2, 1, 5, 5], [7], 'int64');
      return { out: g.gather(table, g.reshape(ids, [7])), wrt: [table] };
    },
  },
  'Gather with int32 2-D ids': {
    build: (g, r) => {
      const table = p(g, r, 'table', [5, 2, 3]);
      return { out: g.gather(table, g.constant([4, 0, 4, 1, 3, 3], [2, 3], 'int32')) };
    },
  },
};

describe('reduction and shape gradient rules match central differences', () => {
  test.each(Object.entries(cases))('%s', async (_, c) => {
    const r = await fdCheck(c);
    expect(r.failures).toEqual([]);
  });
});
