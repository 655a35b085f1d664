/**
 * Randomness of a pretraining run as a pure function of (seed, step): data order, augmentation, noise and
 * timesteps for step t are drawn from a generator seeded by hashing the run's seed with t. A resumed run
 * therefore needs only its step count to continue exactly as an uninterrupted one.
 */
import { createHash } from 'node:crypto';
import { NoiseGenerator } from '../diffusion/random';

/** A fresh generator for one purpose at one step of a run. */
export function stepGenerator(seed: number, purpose: string, step: number): NoiseGenerator {
  return new NoiseGenerator(createHash('sha256').update(`${seed}/${purpose}/${step}`).digest().readUInt32LE(0));
}

/** The order in which epoch `epoch` visits `n` items (Fisher–Yates with a per-epoch generator). */
export function epochOrder(seed: number, epoch: number, n: number): Uint32Array {
  const g = stepGenerator(seed, 'epoch-order', epoch);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = g.nextUint32() % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Item indices of batch `step` (0-based) when every epoch visits all `n` items once in a shuffled order. */
export function batchIndices(seed: number, step: number, batch: number, n: number): number[] {
  const out: number[] = [];
  let cachedEpoch = -1;
  let order: Uint32Array | undefined;
  for (let k = step * batch; k < (step + 1) * batch; k++) {
    const epoch = Math.floor(k / n);
    if (epoch !== cachedEpoch) [cachedEpoch, order] = [epoch, epochOrder(seed, epoch, n)];
    out.push(order![k % n]!);
  }
  return out;
}
