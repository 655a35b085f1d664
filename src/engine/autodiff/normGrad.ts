import { blockedMean, type GraphBuilder, type Tensor } from '../graph';

/**
 * Input gradient of a normalization x̂ = (x - mean) * invStd over the axes [fromAxis, rank), given the
 * gradient w.r.t. x̂: invStd * (dx̂ - mean(dx̂) - x̂ * mean(dx̂ * x̂)). Seven elementwise/reduce nodes
 * (more for large groups, whose means are summed in blocks).
 */
export function normalizeInputGrad(g: GraphBuilder, dxhat: Tensor, xhat: Tensor, invStd: Tensor, fromAxis: number): Tensor {
  const m1 = blockedMean(g, dxhat, fromAxis, true);
  const m2 = blockedMean(g, g.mul(dxhat, xhat), fromAxis, true);
  return g.mul(g.sub(g.sub(dxhat, m1), g.mul(xhat, m2)), invStd);
}

/** Normalized x̂ and 1/σ of `x` over its axes [axis, rank), recomputed by one LayerNormalization node. */
export function normalizeStats(g: GraphBuilder, x: Tensor, axis: number, epsilon: number): { xhat: Tensor; invStd: Tensor } {
  const ones = g.full(x.shape.slice(axis), 1);
  const xhat = g.layerNorm(x, ones, null, { axis, epsilon });
  return { xhat, invStd: g.producer(xhat)!.outputs[2]! };
}
