import type { GraphBuilder } from './builder';
import { sizeOf } from './shape';
import type { Tensor } from './types';

/** Runs shorter than this are summed in one ReduceSum: their float32 error is already small. */
export const BLOCKED_FROM = 4096;

/**
 * Sum over the trailing axes [fromAxis, rank) that stays accurate in float32 over millions of values.
 * onnxruntime-web's ReduceSum (wasm, and WebGPU's per-thread loops) adds long runs one value at a time,
 * so its error grows with the run: Σx² over the UNet's 5.7 M gradients was 7e-3 off relative. Summing
 * blocks of ~√n values and then the block sums keeps every run near √n long. 2–4 nodes.
 */
export function blockedSum(g: GraphBuilder, x: Tensor, fromAxis: number, keepdims = false): Tensor {
  const outer = x.shape.slice(0, fromAxis);
  const n = sizeOf(x.shape.slice(fromAxis));
  const axes = trailing(x, fromAxis);
  if (n < BLOCKED_FROM) return g.reduceSum(x, axes, keepdims);
  const k = blockLength(n);
  const m = Math.ceil(n / k);
  let flat = g.reshape(x, [...outer, n]);
  // No divisor near √n: zeros pad the last block (they add nothing to the sum).
  if (k * m > n) flat = g.pad(flat, [...outer.map(() => 0), 0, ...outer.map(() => 0), k * m - n]);
  const blocks = g.reduceSum(g.reshape(flat, [...outer, m, k]), [outer.length + 1], false);
  const sum = g.reduceSum(blocks, [outer.length], false);
  return keepdims ? g.reshape(sum, [...outer, ...axes.map(() => 1)]) : sum;
}

/** Mean over the trailing axes [fromAxis, rank), summed as {@link blockedSum}. */
export function blockedMean(g: GraphBuilder, x: Tensor, fromAxis: number, keepdims = false): Tensor {
  const n = sizeOf(x.shape.slice(fromAxis));
  if (n < BLOCKED_FROM) return g.reduceMean(x, trailing(x, fromAxis), keepdims);
  return g.mul(blockedSum(g, x, fromAxis, keepdims), 1 / n);
}

const trailing = (x: Tensor, fromAxis: number) => Array.from({ length: x.rank - fromAxis }, (_, i) => fromAxis + i);

/** A divisor of n near √n when there is one (no padding), else ⌈√n⌉. */
function blockLength(n: number): number {
  const root = Math.ceil(Math.sqrt(n));
  for (let d = root; d >= root / 2; d--) if (n % d === 0) return d;
  return root;
}
