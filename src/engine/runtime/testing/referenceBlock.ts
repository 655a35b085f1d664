import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { GraphBuilder, type Tensor } from '../../graph';
import { applyLora } from '../../lora/lora';
import { weightedMse } from '../../optim/loss';

export interface ReferenceBlockConfig {
  batch: number;
  inChannels: number;
  channels: number;
  /** Input height = width (even). */
  size: number;
  groups: number;
  heads: number;
  /** LoRA rank on attn1.to_q/k/v/out.0. */
  rank: number;
  seed?: number;
  /** Train the convolutions and norm too (default false: only the LoRA adapters train). */
  trainNonAttention?: boolean;
}

/** Tiny shapes for tests and SwiftShader. */
export const TINY_BLOCK: ReferenceBlockConfig = { batch: 2, inChannels: 3, channels: 8, size: 8, groups: 2, heads: 2, rank: 2 };
/** The block gpu.md measured (409 nodes in the prototype): B=8, 32 channels at 32×32. */
export const BENCH_BLOCK: ReferenceBlockConfig = { batch: 8, inChannels: 4, channels: 32, size: 32, groups: 8, heads: 4, rank: 4 };

export interface ReferenceBlock {
  readonly graph: GraphBuilder;
  readonly loss: Tensor;
  /** Data inputs: x [B,Cin,S,S], target [B,Cin,S/2,S/2], sample_weight [B]. */
  readonly inputs: { readonly x: Tensor; readonly target: Tensor; readonly weights: Tensor };
}

/**
 * The engine's reference training block: conv → GroupNorm → SiLU → strided conv → self-attention
 * (LoRA on q/k/v/out) with residual → conv, under a per-sample-weighted MSE loss. Parameter names
 * follow diffusers (`attn1.to_q.weight`, `attn1.to_out.0.weight`).
 */
export function referenceBlock(cfg: ReferenceBlockConfig): ReferenceBlock {
  const { batch: b, inChannels: cin, channels: c, size: s, groups, heads } = cfg;
  const g = new GraphBuilder('reference_block');
  const rng = xoroshiro128plus(cfg.seed ?? 1);
  const uniform = (n: number, fanIn: number) => Float32Array.from({ length: n }, () => (2 * uniformFloat64(rng) - 1) / Math.sqrt(fanIn));
  const param = (name: string, shape: number[], fanIn: number) =>
    g.param(
      name,
      shape,
      uniform(
        shape.reduce((x, y) => x * y, 1),
        fanIn,
      ),
    );
  const conv = (name: string, x: Tensor, cout: number, stride: number) => {
    const ci = x.shape[1]!;
    return g.conv(x, param(`${name}.weight`, [cout, ci, 3, 3], ci * 9), param(`${name}.bias`, [cout], ci * 9), {
      strides: [stride, stride],
      pads: [1, 1, 1, 1],
      dilations: [1, 1],
    });
  };
  // diffusers' Attention: q/k/v without bias (a key bias would not change the softmax), to_out.0 with one.
  const linear = (name: string, x: Tensor, bias: boolean) => g.linear(x, param(`${name}.weight`, [c, c], c), bias ? param(`${name}.bias`, [c], c) : null);

  const x = g.input('x', 'float32', [b, cin, s, s]);
  const target = g.input('target', 'float32', [b, cin, s / 2, s / 2]);
  const weights = g.input('sample_weight', 'float32', [b]);

  let h = conv('conv_in', x, c, 1);
  h = g.silu(g.groupNorm(h, groups, g.param('norm.weight', [c], new Float32Array(c).fill(1)), g.param('norm.bias', [c], new Float32Array(c))));
  h = conv('conv_down', h, c, 2);

  // Self-attention over the (S/2)² positions, token-major [B·L, C] so each projection is one Gemm.
  const l = (s / 2) ** 2;
  const d = c / heads;
  const tokens = g.reshape(g.transpose(h, [0, 2, 3, 1]), [b * l, c]);
  const split = (t: Tensor) => g.transpose(g.reshape(t, [b, l, heads, d]), [0, 2, 1, 3]);
  const q = split(g.mul(linear('attn1.to_q', tokens, false), 1 / Math.sqrt(d)));
  const k = split(linear('attn1.to_k', tokens, false));
  const v = split(linear('attn1.to_v', tokens, false));
  const attn = g.matmul(g.softmax(g.matmul(q, g.transpose(k, [0, 1, 3, 2])), -1), v);
  const merged = g.reshape(g.transpose(attn, [0, 2, 1, 3]), [b * l, c]);
  const out = g.add(tokens, linear('attn1.to_out.0', merged, true));
  h = g.transpose(g.reshape(out, [b, s / 2, s / 2, c]), [0, 3, 1, 2]);

  const pred = conv('conv_out', h, cin, 1);
  const loss = weightedMse(g, pred, target, weights);

  const lora = applyLora(g, {
    target: /^attn1\.to_(q|k|v|out\.0)\.weight$/,
    rank: cfg.rank,
    alpha: cfg.rank,
    seed: cfg.seed ?? 1,
    freezeOthers: !cfg.trainNonAttention,
  });
  const m = lora.map;
  return { graph: lora.graph, loss: m(loss), inputs: { x: m(x), target: m(target), weights: m(weights) } };
}

/** A fixed random batch for the block (x, target, equal sample weights). */
export function referenceBatch(cfg: ReferenceBlockConfig, seed = 7): Record<'x' | 'target' | 'sample_weight', Float32Array> {
  const rng = xoroshiro128plus(seed);
  const randn = (n: number) => Float32Array.from({ length: n }, () => 2 * uniformFloat64(rng) - 1);
  const { batch: b, inChannels: cin, size: s } = cfg;
  return {
    x: randn(b * cin * s * s),
    target: randn((b * cin * s * s) / 4),
    sample_weight: new Float32Array(b).fill(1 / b),
  };
}
