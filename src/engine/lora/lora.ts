import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { GraphBuilder, Initializer, Tensor } from '../graph';
import { rewriteGraph } from '../optim/rewrite';

export interface LoraConfig {
  /** Which weights get an adapter, by parameter name: a RegExp or a predicate (e.g. /attn1\.to_[qkv]\.weight$/). */
  target: RegExp | ((name: string) => boolean);
  /** Adapter rank r ≥ 1. */
  rank: number;
  /** Scale numerator: the delta is (alpha / rank) · B·A (peft's `lora_alpha`). */
  alpha: number;
  /** Seed for A's initialisation (default 0). */
  seed?: number;
  /** Freeze every parameter that gets no adapter (default true: only A and B train). */
  freezeOthers?: boolean;
}

/** One adapter, with diffusers/peft parameter names so the trained values export as a LoRA file. */
export interface LoraAdapter {
  /** The frozen base weight, e.g. `mid_block.attentions.0.transformer_blocks.0.attn1.to_q.weight`. */
  readonly base: string;
  /** `….to_q.lora_A.weight`: [r, in] (Linear) or [r, in, kH, kW] (Conv). */
  readonly a: string;
  /** `….to_q.lora_B.weight`: [out, r] (Linear) or [out, r, 1, 1] (Conv). */
  readonly b: string;
  readonly rank: number;
  readonly alpha: number;
}

export interface LoraGraph {
  readonly graph: GraphBuilder;
  /** The new graph's tensor for a tensor of the source graph (e.g. its loss). */
  readonly map: (t: Tensor) => Tensor;
  readonly adapters: readonly LoraAdapter[];
}

/**
 * Adds LoRA adapters to a built graph: every parameter whose name matches `target` (a Linear weight
 * [out, in] or a Conv weight [out, in, kH, kW]) is replaced, wherever the model uses it, by
 * W + (alpha/r)·B·A with W frozen, A random (peft's kaiming-uniform, U(±1/√fan_in)) and B zero, both
 * trainable; every other parameter is frozen unless `freezeOthers` is false. Since x(W + sBA)ᵀ = xWᵀ + s(xAᵀ)Bᵀ this is the LoRA layer
 * y = xWᵀ + s·(xAᵀ)Bᵀ, computed on the weight side: one Gemm per adapter, whatever shape the model
 * gives the weight afterwards (fused q/k/v concatenations, scaled queries), and its backward adds
 * three Gemms per adapter, where the activation-side form needs two forward and five backward nodes.
 * Returns a new graph; the source graph is unchanged.
 */
export function applyLora(src: GraphBuilder, cfg: LoraConfig): LoraGraph {
  if (!Number.isInteger(cfg.rank) || cfg.rank < 1) throw new Error(`applyLora: rank must be a positive integer, got ${cfg.rank}`);
  if (!(cfg.alpha > 0)) throw new Error(`applyLora: alpha must be > 0, got ${cfg.alpha}`);
  const matches = typeof cfg.target === 'function' ? cfg.target : (n: string) => (cfg.target as RegExp).test(n);
  const targets = src.parameters().filter((p) => matches(p.tensor.name));
  if (targets.length === 0) throw new Error(`applyLora: no parameter of graph ${src.name} matches ${String(cfg.target)}`);
  for (const p of targets) {
    const { name, shape } = p.tensor;
    if (shape.length !== 2 && shape.length !== 4) {
      throw new Error(`applyLora: ${name} [${shape}] is not a Linear [out,in] or Conv [out,in,kH,kW] weight`);
    }
    if (cfg.rank > Math.min(shape[0]!, shape[1]!)) throw new Error(`applyLora: rank ${cfg.rank} exceeds the dims of ${name} [${shape}]`);
  }
  const targetSet = new Set<Initializer>(targets);
  const adapters: LoraAdapter[] = [];
  const { graph, map } = rewriteGraph(src, {
    name: `${src.name}_lora`,
    param: (init, dst) => {
      const { name, shape } = init.tensor;
      const target = targetSet.has(init);
      const group = target || (cfg.freezeOthers ?? true) || init.group === 'frozen' ? 'frozen' : 'trainable';
      const w = dst.param(name, shape, init.data as Float32Array, group);
      if (!target) return w;
      const adapter = adapterNames(name, cfg);
      adapters.push(adapter);
      return loraWeight(dst, w, adapter, cfg.seed ?? 0);
    },
  });
  return { graph, map, adapters };
}

/** peft's names: `x.to_q.weight` → `x.to_q.lora_A.weight` / `x.to_q.lora_B.weight`. */
function adapterNames(base: string, cfg: LoraConfig): LoraAdapter {
  const stem = base.endsWith('.weight') ? base.slice(0, -'.weight'.length) : base;
  return { base, a: `${stem}.lora_A.weight`, b: `${stem}.lora_B.weight`, rank: cfg.rank, alpha: cfg.alpha };
}

/** W + (alpha/r)·B·A as one Gemm (C = W), reshaped for Conv weights. */
function loraWeight(g: GraphBuilder, w: Tensor, ad: LoraAdapter, seed: number): Tensor {
  const [out, inF] = w.shape as [number, number];
  const kernel = w.shape.slice(2);
  const fanIn = w.size / out;
  const a = g.param(ad.a, [ad.rank, inF, ...kernel], kaimingUniform(ad.rank * fanIn, fanIn, seed, ad.a), 'trainable');
  const b = g.param(ad.b, [out, ad.rank, ...kernel.map(() => 1)], new Float32Array(out * ad.rank), 'trainable');
  const merged = g.gemm(g.reshape(b, [out, ad.rank]), g.reshape(a, [ad.rank, fanIn]), g.reshape(w, [out, fanIn]), {
    alpha: ad.alpha / ad.rank,
  });
  return g.reshape(merged, w.shape);
}

/** U(±1/√fan_in) from a stream seeded by the seed and the parameter name. */
function kaimingUniform(n: number, fanIn: number, seed: number, name: string): Float32Array {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  const rng = xoroshiro128plus(h | 0);
  const bound = 1 / Math.sqrt(fanIn);
  return Float32Array.from({ length: n }, () => (2 * uniformFloat64(rng) - 1) * bound);
}
