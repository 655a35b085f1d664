import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { GraphBuilder, ParamGroup, Tensor } from '../engine/graph';
import type { Float32Tensor } from './safetensors';

/** How a parameter is initialised when no weights are given. */
export type Init =
  | { readonly kind: 'ones' }
  | { readonly kind: 'zeros' }
  | { readonly kind: 'uniform'; readonly bound: number }
  | { readonly kind: 'normal'; readonly std: number };

export const ONES: Init = { kind: 'ones' };
export const ZEROS: Init = { kind: 'zeros' };
/** PyTorch's default for nn.Linear / nn.Conv2d weights and biases (kaiming_uniform with a=√5): U(±1/√fan_in). */
export const torchDefault = (fanIn: number): Init => ({ kind: 'uniform', bound: 1 / Math.sqrt(fanIn) });
export const normal = (std: number): Init => ({ kind: 'normal', std });

/**
 * Where parameter values come from: tensors loaded by name (safetensors), or a seeded random
 * initialisation for a model nobody has trained yet.
 */
export type WeightSource =
  { readonly kind: 'weights'; readonly tensors: ReadonlyMap<string, Float32Tensor> } | { readonly kind: 'seeded'; readonly seed: number };

export interface ParamOptions {
  /** Prepended to every graph parameter name (weights are still looked up by the unprefixed name). */
  prefix?: string;
  /** Which group each parameter joins; default every parameter is frozen (inference). */
  group?: (name: string) => ParamGroup;
}

/**
 * The parameter handles a forward function asks for, by diffusers' / transformers' parameter name.
 * Each name becomes one graph parameter (created on first use, shared afterwards), so the same
 * forward code serves inference graphs (weights baked in) and train-step graphs (weights as inputs).
 *
 * Missing or mis-shaped weights do not stop the build at the first one: they are collected and
 * {@link ModelParams.check} reports them all.
 */
export class ModelParams {
  private readonly made = new Map<string, Tensor>();
  private readonly problems: string[] = [];

  constructor(
    readonly g: GraphBuilder,
    readonly source: WeightSource,
    private readonly opts: ParamOptions = {},
  ) {}

  /** True when values come from the seeded initialisation rather than trained weights. */
  get untrained(): boolean {
    return this.source.kind === 'seeded';
  }

  /** The graph tensor for parameter `name` with the given shape. */
  param(name: string, shape: readonly number[], init: Init): Tensor {
    const hit = this.made.get(name);
    if (hit) {
      if (hit.shape.join() !== shape.join()) throw new Error(`parameter ${name} requested as [${shape}] and as [${hit.shape}]`);
      return hit;
    }
    const t = this.g.param(`${this.opts.prefix ?? ''}${name}`, shape, this.values(name, shape, init), this.opts.group?.(name) ?? 'frozen');
    this.made.set(name, t);
    return t;
  }

  /** Names of the parameters created so far, in creation order. */
  names(): string[] {
    return [...this.made.keys()];
  }

  /**
   * Throws one error listing every missing or mis-shaped weight, and every loaded tensor the
   * model did not use unless `mayBeUnused` accepts its name (e.g. the other half of a VAE).
   */
  check(what: string, mayBeUnused: (name: string) => boolean = () => false): void {
    const problems = [...this.problems];
    if (this.source.kind === 'weights') {
      for (const name of this.source.tensors.keys()) {
        if (!this.made.has(name) && !mayBeUnused(name)) problems.push(`unexpected tensor "${name}" (not a parameter of this model)`);
      }
    }
    if (problems.length === 0) return;
    const shown = problems.slice(0, 8);
    const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
    throw new Error(`${what}: ${shown.join('; ')}${more}`);
  }

  private values(name: string, shape: readonly number[], init: Init): Float32Array {
    const size = shape.reduce((a, b) => a * b, 1);
    if (this.source.kind === 'seeded') return initialValues(this.source.seed, name, size, init);
    const t = this.source.tensors.get(name);
    if (!t) {
      this.problems.push(`missing tensor "${name}" [${shape}]`);
      return new Float32Array(size);
    }
    if (t.shape.join() !== shape.join()) {
      this.problems.push(`tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
      return new Float32Array(size);
    }
    return t.data;
  }
}

/**
 * Deterministic initial values. Each parameter draws from its own xoroshiro128+ stream seeded
 * with a hash of (seed, name), so a value depends only on the seed and the parameter's name —
 * not on build order or on which other parameters exist. Normals use Box–Muller.
 */
export function initialValues(seed: number, name: string, size: number, init: Init): Float32Array {
  const out = new Float32Array(size);
  switch (init.kind) {
    case 'zeros':
      return out;
    case 'ones':
      return out.fill(1);
    case 'uniform': {
      const rng = xoroshiro128plus(streamSeed(seed, name));
      for (let i = 0; i < size; i++) out[i] = (2 * uniformFloat64(rng) - 1) * init.bound;
      return out;
    }
    case 'normal': {
      const rng = xoroshiro128plus(streamSeed(seed, name));
      for (let i = 0; i < size; i += 2) {
        const r = Math.sqrt(-2 * Math.log(1 - uniformFloat64(rng)));
        const theta = 2 * Math.PI * uniformFloat64(rng);
        out[i] = r * Math.cos(theta) * init.std;
        if (i + 1 < size) out[i + 1] = r * Math.sin(theta) * init.std;
      }
      return out;
    }
  }
}

/** FNV-1a over the name, mixed with the seed (murmur3 finalizer), as a 32-bit integer seed. */
function streamSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
