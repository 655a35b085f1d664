/**
 * Every builder op runs on onnxruntime-web's wasm EP and matches an independent plain-JS
 * reference (naive loops in float64). One graph holds all cases so the suite needs one session.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { GraphBuilder } from './builder';
import { runGraph } from './runWasm';
import { makeRng } from './testing';
import type { Tensor, TensorData } from './types';

type Arr = { shape: number[]; data: number[] };

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const unravel = (i: number, shape: readonly number[]) => {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
};
const ravel = (idx: readonly number[], shape: readonly number[]) => idx.reduce((a, v, d) => a * shape[d]! + v, 0);
/** Reads `a` at an output index under numpy broadcasting. */
const at = (a: Arr, outIdx: readonly number[]) => {
  const off = outIdx.length - a.shape.length;
  return a.data[
    ravel(
      a.shape.map((d, i) => (d === 1 ? 0 : outIdx[i + off]!)),
      a.shape,
    )
  ]!;
};
const bshape = (...shapes: number[][]) => {
  const r = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: r }, (_, i) => Math.max(...shapes.map((s) => s[s.length - r + i] ?? 1)));
};
const map = (shape: number[], f: (idx: number[]) => number): Arr => ({
  shape,
  data: Array.from({ length: size(shape) }, (_, i) => f(unravel(i, shape))),
});
const zip = (f: (...v: number[]) => number, ...as: Arr[]) => {
  const shape = bshape(...as.map((a) => a.shape));
  return map(shape, (idx) => f(...as.map((a) => at(a, idx))));
};

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for 1e-5; use the series / continued fraction.
  const t = Math.abs(x);
  let r: number;
  if (t < 3) {
    let sum = t,
      term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let cf = 0;
    for (let n = 60; n >= 1; n--) cf = n / 2 / (t + cf);
    r = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + cf);
  }
  return x < 0 ? -r : r;
}

function refConv(x: Arr, w: Arr, b: Arr | null, s: number[], p: number[], d: number[], group: number): Arr {
  const [n, , h, wd] = x.shape as [number, number, number, number];
  const [m, cg, kh, kw] = w.shape as [number, number, number, number];
  const oh = Math.floor((h + p[0]! + p[2]! - d[0]! * (kh - 1) - 1) / s[0]!) + 1;
  const ow = Math.floor((wd + p[1]! + p[3]! - d[1]! * (kw - 1) - 1) / s[1]!) + 1;
  const mg = m / group;
  return map([n, m, oh, ow], ([ni, mi, y, xx]) => {
    const gi = Math.floor(mi! / mg);
    let acc = b ? b.data[mi!]! : 0;
    for (let ci = 0; ci < cg; ci++)
      for (let u = 0; u < kh; u++)
        for (let v = 0; v < kw; v++) {
          const iy = y! * s[0]! + u * d[0]! - p[0]!;
          const ix = xx! * s[1]! + v * d[1]! - p[1]!;
          if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
          acc += x.data[ravel([ni!, gi * cg + ci, iy, ix], x.shape)]! * w.data[ravel([mi!, ci, u, v], w.shape)]!;
        }
    return acc;
  });
}

function refConvTranspose(x: Arr, w: Arr, b: Arr | null, s: number[], p: number[], d: number[], group: number, op: number[]): Arr {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [, mg, kh, kw] = w.shape as [number, number, number, number];
  const m = mg * group;
  const cg = c / group;
  const oh = s[0]! * (h - 1) + op[0]! + (kh - 1) * d[0]! + 1 - p[0]! - p[2]!;
  const ow = s[1]! * (wd - 1) + op[1]! + (kw - 1) * d[1]! + 1 - p[1]! - p[3]!;
  const out = new Array<number>(n * m * oh * ow).fill(0);
  for (let ni = 0; ni < n; ni++)
    for (let ci = 0; ci < c; ci++)
      for (let iy = 0; iy < h; iy++)
        for (let ix = 0; ix < wd; ix++)
          for (let mo = 0; mo < mg; mo++)
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const y = iy * s[0]! + u * d[0]! - p[0]!;
                const xx = ix * s[1]! + v * d[1]! - p[1]!;
                if (y < 0 || y >= oh || xx < 0 || xx >= ow) continue;
                const mi = Math.floor(ci / cg) * mg + mo;
                out[ravel([ni, mi, y, xx], [n, m, oh, ow])]! += x.data[ravel([ni, ci, iy, ix], x.shape)]! * w.data[ravel([ci, mo, u, v], w.shape)]!;
              }
  return { shape: [n, m, oh, ow], data: out.map((v, i) => v + (b ? b.data[unravel(i, [n, m, oh, ow])[1]!]! : 0)) };
}

function refMatmul(a: Arr, b: Arr): Arr {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const nn = b.shape[b.shape.length - 1]!;
  const batch = bshape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return map([...batch, m, nn], (idx) => {
    const bi = idx.slice(0, -2);
    const [i, j] = idx.slice(-2) as [number, number];
    let acc = 0;
    for (let q = 0; q < k; q++) acc += at(a, [...bi, i, q]) * at(b, [...bi, q, j]);
    return acc;
  });
}

function refReduce(x: Arr, axes: number[], mean: boolean, keep: boolean): Arr {
  const kshape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Array<number>(size(kshape)).fill(0);
  x.data.forEach((v, i) => {
    const idx = unravel(i, x.shape).map((q, d) => (axes.includes(d) ? 0 : q));
    out[ravel(idx, kshape)]! += v;
  });
  const cnt = axes.reduce((a, ax) => a * x.shape[ax]!, 1);
  return { shape: keep ? kshape : x.shape.filter((_, i) => !axes.includes(i)), data: out.map((v) => (mean ? v / cnt : v)) };
}

/** Normalizes over the trailing `inner` elements of each of the leading blocks. */
function refNormalize(x: Arr, inner: number, eps: number): Arr {
  const data = [...x.data];
  for (let o = 0; o < data.length; o += inner) {
    const blk = data.slice(o, o + inner);
    const mu = blk.reduce((a, b) => a + b, 0) / inner;
    const v = blk.reduce((a, b) => a + (b - mu) ** 2, 0) / inner;
    for (let i = 0; i < inner; i++) data[o + i] = (blk[i]! - mu) / Math.sqrt(v + eps);
  }
  return { shape: x.shape, data };
}

const rng = makeRng(7);
const arr = (shape: number[], scale = 1): Arr => ({ shape, data: Array.from(rng.randn(size(shape), scale)) });

interface Case {
  name: string;
  out: Tensor;
  ref: () => Arr;
  tol?: number;
}

const g = new GraphBuilder('ops');
const feeds: Record<string, TensorData> = {};
const cases: Case[] = [];
let nIn = 0;
function inp(a: Arr): Tensor {
  const name = `in${nIn++}`;
  feeds[name] = Float32Array.from(a.data);
  return g.input(name, 'float32', a.shape);
}
function param(a: Arr): Tensor {
  return g.param(`p${nIn++}`, a.shape, Float32Array.from(a.data));
}
function add(name: string, out: Tensor, ref: () => Arr, tol?: number) {
  cases.push({ name, out: g.output(out, `out_${cases.length}`), ref, tol });
}

{
  const a = arr([2, 3, 4]),
    b = arr([3, 1]),
    pos = { shape: [2, 3, 4], data: a.data.map((v) => Math.abs(v) + 0.5) };
  const ta = inp(a),
    tb = inp(b),
    tp = inp(pos);
  add('Add broadcast', g.add(ta, tb), () => zip((x, y) => x + y, a, b));
  add('Sub broadcast', g.sub(tb, ta), () => zip((x, y) => y - x, a, b));
  add('Mul broadcast', g.mul(ta, tb), () => zip((x, y) => x * y, a, b));
  add('Div broadcast', g.div(ta, tp), () => zip((x, y) => x / y, a, pos));
  add('Neg', g.neg(ta), () => zip((x) => -x, a));
  add('Sqrt', g.sqrt(tp), () => zip(Math.sqrt, pos));
  add('Pow 3', g.pow(ta, 3), () => zip((x) => x ** 3, a));
  add('Pow -0.5', g.pow(tp, -0.5), () => zip((x) => x ** -0.5, pos));
  add('Exp', g.exp(ta), () => zip(Math.exp, a));
  add('Log', g.log(tp), () => zip(Math.log, pos));
  add('Sigmoid', g.sigmoid(ta), () => zip((x) => 1 / (1 + Math.exp(-x)), a));
  add('Tanh', g.tanh(ta), () => zip(Math.tanh, a));
  add('Erf', g.erf(ta), () => zip(erf, a));
  add('SiLU', g.silu(ta), () => zip((x) => x / (1 + Math.exp(-x)), a));
  add('GELU erf', g.gelu(ta), () => zip((x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), a));
  add('GELU tanh', g.gelu(ta, 'tanh'), () => zip((x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), a));
  add('QuickGELU', g.quickGelu(ta), () => zip((x) => x / (1 + Math.exp(-1.702 * x)), a));
  add('Softmax axis 1', g.softmax(ta, 1), () => {
    const e = zip(Math.exp, a);
    const s = refReduce(e, [1], false, true);
    return zip((x, y) => x / y, e, s);
  });
  add('Where/Less', g.where(g.less(ta, tb), ta, g.scalar(-2)), () => zip((x, y) => (x < y ? x : -2), a, b));
  add('Equal+Cast', g.cast(g.equal(g.cast(g.mul(tp, 0), 'int32'), g.cast(tb, 'int32')), 'float32'), () => zip((_, y) => (Math.trunc(y) === 0 ? 1 : 0), pos, b));
  add('ReduceSum keepdims', g.reduceSum(ta, [0, 2]), () => refReduce(a, [0, 2], false, true));
  add('ReduceMean', g.reduceMean(ta, [-1], false), () => refReduce(a, [2], true, false));
  add('Reshape', g.reshape(ta, [4, -1]), () => ({ shape: [4, 6], data: a.data }));
  add('Transpose', g.transpose(ta, [2, 0, 1]), () => map([4, 2, 3], ([k, i, j]) => a.data[ravel([i!, j!, k!], a.shape)]!));
  add('Concat', g.concat([ta, g.mul(ta, 2)], 1), () => map([2, 6, 4], ([i, j, k]) => (j! < 3 ? 1 : 2) * a.data[ravel([i!, j! % 3, k!], a.shape)]!));
  add('Slice steps', g.slice(ta, [1, 0], [3, 100], [1, 2], [1, 2]), () => map([2, 2, 2], ([i, j, k]) => a.data[ravel([i!, j! + 1, 2 * k!], a.shape)]!));
  const [s0, s1] = g.split(ta, [1, 3], 2);
  add('Split 0', s0!, () => map([2, 3, 1], ([i, j]) => a.data[ravel([i!, j!, 0], a.shape)]!));
  add('Split 1', s1!, () => map([2, 3, 3], ([i, j, k]) => a.data[ravel([i!, j!, k! + 1], a.shape)]!));
  add('Unsqueeze+Squeeze', g.squeeze(g.unsqueeze(ta, [0, 3]), [0]), () => ({ shape: [2, 3, 1, 4], data: a.data }));
  add('Pad', g.pad(ta, [0, 1, 0, 1, 0, 2], 0.5), () =>
    map([3, 4, 6], ([i, j, k]) => (i! < 2 && j! >= 1 && k! < 4 ? a.data[ravel([i!, j! - 1, k!], a.shape)]! : 0.5)),
  );
  add('Expand', g.expand(tb, [2, 3, 5]), () => map([2, 3, 5], ([, j]) => b.data[j!]!));
}
{
  const x = arr([2, 3, 3, 2]);
  const tx = inp(x);
  add('Resize nearest 2x', g.resizeNearest(tx, [1, 1, 2, 2]), () => map([2, 3, 6, 4], ([n, c, y, xx]) => x.data[ravel([n!, c!, y! >> 1, xx! >> 1], x.shape)]!));
  const table = arr([5, 3]);
  const idx = [4, 0, 2, 2, 1, 4];
  feeds.idx = BigInt64Array.from(idx.map(BigInt));
  const tidx = g.input('idx', 'int64', [2, 3]);
  add('Gather rows', g.gather(param(table), tidx), () => map([2, 3, 3], ([i, j, k]) => table.data[idx[i! * 3 + j!]! * 3 + k!]!));
}
{
  const a = arr([3, 1, 4, 5]),
    b = arr([2, 5, 3]);
  add('MatMul batched broadcast', g.matmul(inp(a), inp(b)), () => refMatmul(a, b));
  const m = arr([4, 3]),
    n = arr([5, 4]),
    c = arr([5]);
  add('Gemm transA transB alpha beta', g.gemm(inp(m), inp(n), inp(c), { transA: true, transB: true, alpha: 0.5, beta: 2 }), () => {
    const mt = map([3, 4], ([i, j]) => m.data[j! * 3 + i!]!);
    const nt = map([4, 5], ([i, j]) => n.data[j! * 4 + i!]!);
    return zip((p, q) => 0.5 * p + 2 * q, refMatmul(mt, nt), c);
  });
  const x = arr([2, 3, 4]),
    w = arr([6, 4]),
    bias = arr([6]);
  add('linear', g.linear(inp(x), param(w), param(bias)), () => {
    const wt = map([4, 6], ([i, j]) => w.data[j! * 4 + i!]!);
    return zip((p, q) => p + q, refMatmul(x, wt), bias);
  });
}
{
  const x = arr([2, 4, 7, 6]);
  const tx = inp(x);
  const w1 = arr([6, 4, 3, 3], 0.3),
    b1 = arr([6]);
  add('Conv stride 2 asym pads', g.conv(tx, param(w1), param(b1), { strides: [2, 2], pads: [1, 0, 1, 2] }), () =>
    refConv(x, w1, b1, [2, 2], [1, 0, 1, 2], [1, 1], 1),
  );
  const w2 = arr([6, 2, 3, 2], 0.3);
  add('Conv groups dilation', g.conv(tx, param(w2), null, { group: 2, dilations: [2, 1], pads: [2, 1, 2, 0] }), () =>
    refConv(x, w2, null, [1, 1], [2, 1, 2, 0], [2, 1], 2),
  );
  const w3 = arr([4, 3, 3, 3], 0.3),
    b3 = arr([6]);
  add(
    'ConvTranspose stride 2 groups output_padding',
    g.convTranspose(tx, param(w3), param(b3), {
      strides: [2, 2],
      pads: [1, 1, 1, 1],
      group: 2,
      outputPadding: [1, 0],
    }),
    () => refConvTranspose(x, w3, b3, [2, 2], [1, 1, 1, 1], [1, 1], 2, [1, 0]),
  );
  const sc = arr([4]),
    bi = arr([4]);
  add('InstanceNormalization', g.instanceNorm(tx, param(sc), param(bi), 1e-5), () =>
    zip((v, s, q) => v * s + q, refNormalize(x, 42, 1e-5), { shape: [4, 1, 1], data: sc.data }, { shape: [4, 1, 1], data: bi.data }),
  );
  const gam = arr([4]),
    bet = arr([4]);
  add('groupNorm', g.groupNorm(tx, 2, param(gam), param(bet), 1e-5), () =>
    zip((v, s, q) => v * s + q, refNormalize(x, 84, 1e-5), { shape: [4, 1, 1], data: gam.data }, { shape: [4, 1, 1], data: bet.data }),
  );
  const lg = arr([7, 6]),
    lb = arr([7, 6]);
  add('LayerNormalization axis 2', g.layerNorm(tx, param(lg), param(lb), { axis: 2, epsilon: 1e-5 }), () =>
    zip((v, s, q) => v * s + q, refNormalize(x, 42, 1e-5), lg, lb),
  );
}

describe('every builder op on the wasm EP matches a plain-JS reference', () => {
  let results: Record<string, TensorData>;
  beforeAll(async () => {
    results = await runGraph(g, feeds);
  });
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const ref = c.ref();
    expect(c.out.shape).toEqual(ref.shape);
    const got = Array.from(results[c.out.name] as Float32Array);
    expect(got.length).toBe(ref.data.length);
    const tol = c.tol ?? 1e-4;
    const worst = Math.max(...got.map((v, i) => Math.abs(v - ref.data[i]!) / (1 + Math.abs(ref.data[i]!))));
    expect(worst).toBeLessThan(tol);
  });
});
