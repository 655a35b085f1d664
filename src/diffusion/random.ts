import { mersenne, mersenneFromState } from 'pure-rand/generator/mersenne';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** Largest seed accepted: seeds are unsigned 32-bit integers, as in AUTOMATIC1111's UI. */
export const MAX_SEED = 0xffff_ffff;

/** A NoiseGenerator's position in its stream (plain JSON). */
export interface NoiseGeneratorState {
  seed: number;
  /** pure-rand's MT19937 state: [index, ...624 words]. */
  mt: number[];
}

/**
 * Seeded random numbers that reproduce PyTorch's CPU generator: MT19937 seeded like
 * `torch.manual_seed(seed)`, with `torch.randn`'s CPU Box–Muller layout and `torch.randint`'s
 * modulo draw. The same seed therefore gives the same latents on every backend (and the same
 * ones diffusers gets with `generator=torch.Generator("cpu").manual_seed(seed)`).
 *
 * The generator is stateful: each draw advances the stream, like a torch.Generator.
 */
export class NoiseGenerator {
  readonly seed: number;
  private readonly mt: RandomGenerator & { getState(): readonly number[] };

  constructor(seed: number, state?: NoiseGeneratorState) {
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
      throw new RangeError(`seed must be an integer in [0, ${MAX_SEED}], got ${seed}`);
    }
    this.seed = seed;
    this.mt = state ? mersenneFromState(state.mt) : mersenne(seed);
  }

  /** Where the stream stands (MT19937's 624 words and index), so a checkpoint can continue it exactly. */
  state(): NoiseGeneratorState {
    return { seed: this.seed, mt: [...this.mt.getState()] };
  }

  /** A generator continuing exactly where `state` was taken. @throws when the state is not an MT19937 state. */
  static fromState(state: NoiseGeneratorState): NoiseGenerator {
    if (!Array.isArray(state?.mt) || state.mt.length !== 625 || !state.mt.every((v) => Number.isInteger(v))) {
      throw new RangeError('the random-number state is not an MT19937 state (625 integers)');
    }
    return new NoiseGenerator(state.seed, state);
  }

  /** Next raw 32-bit output of MT19937, as an unsigned integer. */
  nextUint32(): number {
    return this.mt.next() >>> 0;
  }

  /** Uniform float in [0, 1) with 24 random bits: torch's `uniform_real_distribution<float>`. */
  private uniform24(): number {
    return (this.nextUint32() & 0xff_ffff) * 2 ** -24;
  }

  /**
   * `length` standard normal samples, equal to `torch.randn(length)` on CPU (float32).
   * Torch fills uniforms first, then turns each block of 16 into normals pairwise (j, j+8);
   * a ragged tail redraws the last 16 values. Below 16 values torch takes another path, which
   * this does not reproduce: such short draws are padded to one block of 16.
   */
  randn(length: number): Float32Array {
    const block = Math.max(length, 16);
    const u = new Float64Array(block);
    for (let i = 0; i < block; i++) u[i] = this.uniform24();
    for (let i = 0; i + 16 <= block; i += 16) boxMuller16(u, i);
    if (block % 16 !== 0) {
      for (let i = block - 16; i < block; i++) u[i] = this.uniform24();
      boxMuller16(u, block - 16);
    }
    return Float32Array.from(u.subarray(0, length));
  }

  /** `count` integers uniform in [low, high): `torch.randint(low, high, (count,))` on CPU. */
  randint(low: number, high: number, count: number): Int32Array {
    const range = high - low;
    if (!Number.isInteger(low) || !Number.isInteger(high) || range < 1 || range > 2 ** 32) {
      throw new RangeError(`randint needs integers low < high with high - low <= 2^32, got [${low}, ${high})`);
    }
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) out[i] = low + (this.nextUint32() % range);
    return out;
  }
}

function boxMuller16(data: Float64Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = 1 - data[offset + j];
    const u2 = data[offset + j + 8];
    const radius = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    data[offset + j] = radius * Math.cos(theta);
    data[offset + j + 8] = radius * Math.sin(theta);
  }
}

/**
 * Normal noise for a batch laid out as `[batch, ...]` in one flat array, like diffusers' `randn_tensor`:
 * one generator draws the whole array; a list of generators (one per batch item) draws each item
 * from its own stream, so an image's noise depends only on its own seed, not on the batch it is in.
 */
export function randnForBatch(length: number, generator: NoiseGenerator | readonly NoiseGenerator[]): Float32Array {
  if (!Array.isArray(generator)) return (generator as NoiseGenerator).randn(length);
  const generators = generator as readonly NoiseGenerator[];
  if (generators.length === 0 || length % generators.length !== 0) {
    throw new RangeError(`cannot split ${length} values evenly over ${generators.length} generators`);
  }
  const per = length / generators.length;
  const out = new Float32Array(length);
  generators.forEach((g, i) => out.set(g.randn(per), i * per));
  return out;
}
