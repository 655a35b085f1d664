import { blockedMean, formatShape, sameShape, type GraphBuilder, type Tensor } from '../graph';

/**
 * Σ_b w_b · mean((pred_b − target_b)²): a mean squared error per sample, weighted per sample.
 * `weights` is a graph input [B], so one compiled step serves any mix of instance and prior samples
 * (see {@link priorPreservationWeights}). 5 nodes.
 */
export function weightedMse(g: GraphBuilder, pred: Tensor, target: Tensor, weights: Tensor): Tensor {
  if (!sameShape(pred.shape, target.shape)) {
    throw new Error(`weightedMse: pred ${formatShape(pred.shape)} and target ${formatShape(target.shape)} differ`);
  }
  const batch = pred.shape[0];
  if (pred.rank < 2 || !sameShape(weights.shape, [batch!])) {
    throw new Error(`weightedMse: weights ${formatShape(weights.shape)} must be [${batch}] for pred ${formatShape(pred.shape)}`);
  }
  return g.reduceSum(g.mul(perSampleMse(g, pred, target), weights), [0], false);
}

/** mean((pred_b − target_b)²) for each sample b: [B]. */
export function perSampleMse(g: GraphBuilder, pred: Tensor, target: Tensor): Tensor {
  const d = g.sub(pred, target);
  return blockedMean(g, g.mul(d, d), 1);
}

/**
 * Per-sample weights for DreamBooth's prior-preservation loss,
 * mean over instance samples + priorWeight · mean over prior samples, for a batch whose first
 * `instances` samples are subject photos and the next `priors` are class-prior images.
 */
export function priorPreservationWeights(instances: number, priors: number, priorWeight: number): Float32Array {
  for (const [k, v] of [
    ['instances', instances],
    ['priors', priors],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`priorPreservationWeights: ${k} must be a non-negative integer, got ${v}`);
  }
  if (instances + priors === 0) throw new Error('priorPreservationWeights: the batch is empty');
  if (!(priorWeight >= 0)) throw new Error(`priorPreservationWeights: priorWeight must be >= 0, got ${priorWeight}`);
  const w = new Float32Array(instances + priors);
  w.fill(1 / instances, 0, instances);
  w.fill(priorWeight / priors, instances);
  return w;
}
