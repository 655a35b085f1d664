import { describe, expect, test } from 'vitest';
import { appendAdamW } from '../optim/adamw';
import { weightedMse } from '../optim/loss';
import { BLOCKED_FROM, blockedMean, blockedSum } from './blockedReduce';
import { GraphBuilder } from './builder';
import { runGraph } from './runWasm';
import { makeRng } from './testing';

/** Gradient-like values: signed, magnitudes spread over four decades as across a network's layers (a cheap LCG: millions of values). */
function gradientLike(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < n; i++) x[i] = (next() - 0.5) * Math.exp(9.2 * (next() - 0.5));
  return x;
}
const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('blocked reductions', () => {
  // The UNet's trainable values (all weights train): Σg² must match float64 to 1e-4 (plain ReduceSum: ~7e-3).
  const UNET_GRADIENTS = 5_712_347;

  test('the global gradient norm of a UNet-sized gradient vector matches float64 within 1e-4', async () => {
    const grad = gradientLike(UNET_GRADIENTS, 1);
    let ref = 0;
    for (const v of grad) ref += v * v;
    const g = new GraphBuilder('norm');
    const flat = (name: string) => g.input(name, 'float32', [UNET_GRADIENTS]);
    const out = appendAdamW(g, { param: flat('p'), grad: flat('g'), m: flat('m'), v: flat('v'), lr: g.scalar(0), step: g.scalar(1) });
    g.output(out.gradNorm, 'norm');
    const zeros = new Float32Array(UNET_GRADIENTS);
    const res = await runGraph(g, { p: zeros, g: grad, m: zeros, v: zeros });
    expect(relErr((res.norm as Float32Array)[0]!, Math.sqrt(ref))).toBeLessThan(5e-5);
  });

  test('a sum over millions of values: blocked within 1e-4 of float64 (with and without a divisor near √n)', async () => {
    for (const n of [UNET_GRADIENTS, 2_000_000]) {
      const x = gradientLike(n, 2).map((v) => v * v);
      const ref = x.reduce((a, v) => a + v, 0);
      const g = new GraphBuilder('sum');
      g.output(blockedSum(g, g.input('x', 'float32', [n]), 0), 's');
      const padded = g.nodes.some((node) => node.op === 'Pad');
      expect(padded).toBe(n === UNET_GRADIENTS);
      const res = await runGraph(g, { x });
      expect(relErr((res.s as Float32Array)[0]!, ref)).toBeLessThan(1e-4);
    }
  });

  test('the per-sample loss over a large image matches float64', async () => {
    const shape = [2, 3, 256, 256];
    const size = shape.reduce((a, b) => a * b);
    const pred = gradientLike(size, 3);
    const target = gradientLike(size, 4);
    const w = Float32Array.of(0.25, 0.75);
    let ref = 0;
    for (let b = 0; b < 2; b++) {
      let s = 0;
      for (let i = b * (size / 2); i < (b + 1) * (size / 2); i++) s += (pred[i]! - target[i]!) ** 2;
      ref += (w[b]! * s) / (size / 2);
    }
    const g = new GraphBuilder('loss');
    g.output(weightedMse(g, g.input('pred', 'float32', shape), g.input('target', 'float32', shape), g.input('w', 'float32', [2])), 'loss');
    const res = await runGraph(g, { pred, target, w });
    expect(relErr((res.loss as Float32Array)[0]!, ref)).toBeLessThan(1e-5);
  });

  test('trailing axes, keepdims, means; padded blocks where n has no divisor near √n; short runs stay one ReduceSum', async () => {
    const g = new GraphBuilder('shapes');
    const x = g.input('x', 'float32', [2, 3, 4099]);
    const s = blockedSum(g, x, 1);
    const m = blockedMean(g, x, 2, true);
    expect(s.shape).toEqual([2]);
    expect(m.shape).toEqual([2, 3, 1]);
    expect(g.nodes.filter((node) => node.op === 'Pad')).toHaveLength(2);
    g.output(s, 's');
    g.output(m, 'm');
    const small = new GraphBuilder('small');
    blockedSum(small, small.input('x', 'float32', [BLOCKED_FROM - 1]), 0);
    expect(small.nodes.map((node) => node.op)).toEqual(['ReduceSum']);
    const data = makeRng(5).randn(2 * 3 * 4099);
    const res = await runGraph(g, { x: data });
    const sum = (a: number, b: number) => data.slice(a, b).reduce((acc, v) => acc + v, 0);
    for (let b = 0; b < 2; b++) {
      expect((res.s as Float32Array)[b]).toBeCloseTo(sum(b * 12297, (b + 1) * 12297), 3);
      for (let c = 0; c < 3; c++) {
        const at = (b * 3 + c) * 4099;
        expect((res.m as Float32Array)[b * 3 + c]).toBeCloseTo(sum(at, at + 4099) / 4099, 6);
      }
    }
  });
});
