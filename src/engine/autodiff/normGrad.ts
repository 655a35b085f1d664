import type { GraphBuilder, Tensor } from '../graph';

/**
 * Input gradient of a normalization x̂ = (x - mean) * invStd over `axes`, given the gradient
 * w.r.t. x̂: invStd * (dx̂ - mean(dx̂) - x̂ * mean(dx̂ * x̂)). Seven elementwise/reduce nodes.
 */
export function normalizeInputGrad(g: GraphBuilder, dxhat: Tensor, xhat: Tensor, invStd: Tensor, axes: readonly number[]): Tensor {
  const m1 = g.reduceMean(dxhat, axes);
  const m2 = g.reduceMean(g.mul(dxhat, xhat), axes);
  return g.mul(g.sub(g.sub(dxhat, m1), g.mul(xhat, m2)), invStd);
}

/** Normalized x̂ and 1/σ of `x` over its axes [axis, rank), recomputed by one LayerNormalization node. */
export function normalizeStats(g: GraphBuilder, x: Tensor, axis: number, epsilon: number): { xhat: Tensor; invStd: Tensor } {
  const ones = g.full(x.shape.slice(axis), 1);
  const xhat = g.layerNorm(x, ones, null, { axis, epsilon });
  return { xhat, invStd: g.producer(xhat)!.outputs[2]! };
}
