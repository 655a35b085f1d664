/** Finite-difference tests for the linear-algebra section of the gradient table (rules.ts): MatMul, Gemm, Conv, ConvTranspose. */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { GraphBuilder, type ConvOptions, type ConvTransposeOptions } from '../graph';
import { convGradFormulation } from './convGrad';
import { gradients } from './gradients';
import { fdCheck, paramOf as p, type FdCase } from './fdCheck';

/** A convolution case, with its geometry: the shifts formulation takes only stride 1 and one group. */
type ConvCase = FdCase & { geometry: ConvOptions };
const conv = (x: number[], w: number[], opts: ConvOptions, bias = true): ConvCase => ({
  geometry: opts,
  build: (g, r) => ({
    out: g.conv(p(g, r, 'x', x), p(g, r, 'w', w, 0.3), bias ? p(g, r, 'b', [w[0]!]) : null, opts),
  }),
});
const convT = (x: number[], w: number[], opts: ConvTransposeOptions, bias = true): ConvCase => ({
  geometry: opts,
  build: (g, r) => ({
    out: g.convTranspose(p(g, r, 'x', x), p(g, r, 'w', w, 0.3), bias ? p(g, r, 'b', [w[1]! * (opts.group ?? 1)]) : null, opts),
  }),
});

const cases: Record<string, FdCase> = {
  'MatMul 2-D': { build: (g, r) => ({ out: g.matmul(p(g, r, 'a', [3, 4]), p(g, r, 'b', [4, 2])) }) },
  'MatMul batched x weight (Gemm path)': {
    build: (g, r) => ({ out: g.matmul(p(g, r, 'a', [2, 3, 4]), p(g, r, 'b', [4, 5])) }),
  },
  'MatMul broadcast batch dims both ways': {
    build: (g, r) => ({ out: g.matmul(p(g, r, 'a', [2, 1, 3, 4]), p(g, r, 'b', [3, 4, 2])) }),
  },
  'MatMul with transposed left operand and broadcast batch': {
    build: (g, r) => ({ out: g.matmul(g.transpose(p(g, r, 'a', [1, 4, 3]), [0, 2, 1]), p(g, r, 'b', [2, 4, 5])) }),
  },
  'MatMul 2-D x batched': { build: (g, r) => ({ out: g.matmul(p(g, r, 'a', [3, 4]), p(g, r, 'b', [2, 4, 5])) }) },
  'MatMul attention scores q kᵀ': {
    build: (g, r) => {
      const q = p(g, r, 'q', [2, 5, 4]);
      const k = p(g, r, 'k', [2, 6, 4]);
      return { out: g.softmax(g.mul(g.matmul(q, g.transpose(k, [0, 2, 1])), 0.5), -1) };
    },
  },
  ...Object.fromEntries(
    [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ].map(([ta, tb]) => [
      `Gemm transA=${ta} transB=${tb} alpha beta broadcast C`,
      {
        build: (g, r) => ({
          out: g.gemm(p(g, r, 'a', ta ? [4, 3] : [3, 4]), p(g, r, 'b', tb ? [5, 4] : [4, 5]), p(g, r, 'c', [5]), {
            transA: ta,
            transB: tb,
            alpha: 0.7,
            beta: 1.5,
          }),
        }),
      } satisfies FdCase,
    ]),
  ),
  'linear (Gemm transB) on 3-D input': {
    build: (g, r) => ({ out: g.linear(p(g, r, 'x', [2, 3, 4]), p(g, r, 'w', [5, 4]), p(g, r, 'b', [5])) }),
  },
};

/** Every convolution geometry, checked under each weight-gradient formulation (convGrad.ts). */
const convCases: Record<string, ConvCase> = {
  'Conv 3x3 pad 1': conv([2, 3, 5, 5], [4, 3, 3, 3], { pads: [1, 1, 1, 1] }),
  'Conv stride 2, odd size 7 (output_padding 0)': conv([1, 2, 7, 7], [3, 2, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }),
  'Conv stride 2, even size 8 (output_padding 1)': conv([2, 2, 8, 6], [3, 2, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }),
  'Conv stride 2 no pad, dropped edge (crop in dW)': conv([1, 2, 8, 7], [2, 2, 3, 3], { strides: [2, 2] }),
  'Conv asymmetric pads and strides': conv([2, 2, 6, 7], [3, 2, 2, 3], { strides: [1, 2], pads: [0, 2, 1, 1] }),
  'Conv groups 2 stride 2': conv([2, 4, 7, 6], [6, 2, 3, 3], { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] }),
  'Conv groups 2 stride 1 (dx: Conv with flipped grouped weight)': conv([2, 4, 5, 5], [6, 2, 3, 3], { group: 2, pads: [1, 1, 1, 1] }),
  'Conv 1x1 pad 1 (dx: ConvTranspose, pad beyond the kernel)': conv([1, 4, 3, 3], [3, 4, 1, 1], { pads: [1, 1, 1, 1] }),
  'Conv depthwise': conv([1, 3, 5, 5], [3, 1, 3, 3], { group: 3, pads: [1, 1, 1, 1] }, false),
  'Conv dilation 2': conv([1, 2, 7, 7], [2, 2, 3, 3], { dilations: [2, 2], pads: [2, 1, 2, 1] }),
  'Conv 1x1': conv([2, 4, 3, 3], [5, 4, 1, 1], {}),
  'Conv 1x1 stride 2': conv([2, 5, 5, 4], [4, 5, 1, 1], { strides: [2, 2] }),
  'Conv 3x3 pad 1, 6 -> 5 channels': conv([2, 6, 5, 4], [5, 6, 3, 3], { pads: [1, 1, 1, 1] }),
  'Conv 4 images, 2x3 kernel, dilation 2, asymmetric pads, 4 -> 5 channels': conv([4, 4, 6, 7], [5, 4, 2, 3], { dilations: [2, 2], pads: [1, 0, 2, 3] }),
  'Conv 3x2 kernel, dilations 2 and 1, asymmetric pads with a left pad, 4 -> 5 channels': conv([2, 4, 6, 7], [5, 4, 3, 2], {
    dilations: [2, 1],
    pads: [2, 1, 0, 2],
  }),
  'Conv 3x3 pad 1 on 1x1 images (shifted copies wholly outside the input)': conv([2, 4, 1, 1], [4, 4, 3, 3], { pads: [1, 1, 1, 1] }),
  'ConvTranspose stride 2 pad 1 output_padding 1': convT([1, 3, 4, 3], [3, 2, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 1] }),
  'ConvTranspose stride 2 no pad, output_padding 1 (crop in dW)': convT([2, 2, 3, 3], [2, 3, 3, 3], { strides: [2, 2], outputPadding: [1, 0] }),
  'ConvTranspose stride 1 pad 1, 4 -> 5 channels (dW by shifts)': convT([2, 4, 3, 4], [4, 5, 3, 3], { pads: [1, 1, 1, 1] }),
  'ConvTranspose stride 1, dilations 1 and 2, asymmetric pads, 4 -> 5 channels': convT([2, 4, 5, 4], [4, 5, 3, 3], { dilations: [1, 2], pads: [1, 0, 2, 1] }),
  'ConvTranspose groups 2': convT([1, 4, 3, 4], [4, 2, 3, 3], { group: 2, strides: [2, 1], pads: [1, 1, 0, 1] }),
  'ConvTranspose 4x4 stride 2 pad 1 (upsampler)': convT([1, 2, 3, 3], [2, 2, 4, 4], { strides: [2, 2], pads: [1, 1, 1, 1] }, false),
};

describe('linear-algebra gradient rules match central differences', () => {
  test.each(Object.entries(cases))('%s', async (_, c) => {
    const r = await fdCheck(c);
    expect(r.failures).toEqual([]);
  });
});

const fitsShifts = (c: ConvCase) => (c.geometry.group ?? 1) === 1 && (c.geometry.strides ?? [1, 1]).every((s) => s === 1);

// byShape: the product's choice (shifts for stride 1 and one group, one Conv below 4 input channels); shifts forced also where byShape
// picks one Conv; minChunkPositions 1: a MatMul per image, 50: per 2 images in 2 chunks for the 4-image case.
describe.each([
  { weight: 'conv', input: 'convTranspose', minChunkPositions: 2048 },
  { weight: 'im2col', input: 'byShape', minChunkPositions: 2048 },
  { weight: 'shifts', input: 'byShape', minChunkPositions: 2048 },
  { weight: 'byShape', input: 'byShape', minChunkPositions: 2048 },
  { weight: 'byShape', input: 'byShape', minChunkPositions: 1 },
  { weight: 'byShape', input: 'byShape', minChunkPositions: 50 },
] as const)('convolution gradients (weight: $weight, input: $input, minChunkPositions: $minChunkPositions) match central differences', (mode) => {
  beforeEach(() => void Object.assign(convGradFormulation, mode));
  afterEach(() => void Object.assign(convGradFormulation, { weight: 'byShape', input: 'byShape', minChunkPositions: 2048 }));
  test.each(Object.entries(convCases).filter(([, c]) => mode.weight !== 'shifts' || fitsShifts(c)))('%s', async (_, c) => {
    const r = await fdCheck(c);
    expect(r.failures).toEqual([]);
  });
});

test('the weight gradient: one MatMul over shifted copies at stride 1, im2col + one MatMul otherwise, one Conv below 4 input channels per group', () => {
  /**
   * Ops of the weight gradient: shifts slice kH + kW − 2 times for a 3×3 pad-1 conv, im2col kH·kW times, the one-Conv
   * form adds a second Conv; chunks: the batch of the MatMul (image chunks summed afterwards).
   */
  const count = (x: number[], w: number[], group: number, opts: { stride?: number; transposed?: boolean; minChunkPositions?: number } = {}) => {
    const g = new GraphBuilder('dw');
    const xt = g.param('x', x, new Float32Array(x.reduce((a, b) => a * b)));
    const wt = g.param('w', w, new Float32Array(w.reduce((a, b) => a * b)));
    const geom = { pads: [1, 1, 1, 1], group, strides: [opts.stride ?? 1, opts.stride ?? 1] };
    const y = opts.transposed ? g.convTranspose(xt, wt, null, geom) : g.conv(xt, wt, null, geom);
    convGradFormulation.minChunkPositions = opts.minChunkPositions ?? 2048;
    try {
      gradients(g, g.reduceSum(y, [0, 1, 2, 3], false), [wt]);
    } finally {
      convGradFormulation.minChunkPositions = 2048;
    }
    const of = (op: string) => g.nodes.filter((n) => n.op === op);
    const matmul = of('MatMul')[0];
    return { matmuls: of('MatMul').length, slices: of('Slice').length, convs: of('Conv').length, chunks: matmul?.inputs[0]!.shape[0] };
  };
  expect(count([1, 4, 5, 5], [4, 4, 3, 3], 1)).toEqual({ matmuls: 1, slices: 4, convs: 1, chunks: 1 });
  expect(count([4, 4, 5, 5], [4, 4, 3, 3], 1, { minChunkPositions: 50 })).toMatchObject({ matmuls: 1, slices: 4, chunks: 2 });
  expect(count([1, 4, 5, 5], [4, 4, 3, 3], 1, { stride: 2 })).toMatchObject({ matmuls: 1, slices: 9, convs: 1 });
  expect(count([1, 16, 5, 5], [16, 4, 3, 3], 4)).toMatchObject({ matmuls: 1, slices: 9 });
  // 4 input channels per group, 1 output channel per group: im2col, not one Conv.
  expect(count([1, 8, 5, 5], [2, 4, 3, 3], 2)).toMatchObject({ matmuls: 1, slices: 9, convs: 1 });
  expect(count([1, 8, 5, 5], [8, 2, 3, 3], 4)).toMatchObject({ matmuls: 0, convs: 2 });
  expect(count([1, 3, 5, 5], [8, 3, 3, 3], 1)).toMatchObject({ matmuls: 0, convs: 2 });
  expect(count([1, 8, 5, 5], [3, 8, 3, 3], 1)).toMatchObject({ matmuls: 1, slices: 4, convs: 1 });
  // A ConvTranspose's weight gradient reads its output as the input: 3 output channels take one Conv, 4 take shifts.
  expect(count([1, 4, 5, 5], [4, 3, 3, 3], 1, { transposed: true })).toMatchObject({ matmuls: 0 });
  expect(count([1, 4, 5, 5], [4, 4, 3, 3], 1, { transposed: true })).toMatchObject({ matmuls: 1, slices: 4 });
});
