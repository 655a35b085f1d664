/**
 * Building blocks shared by the UNet, the VAE and the text encoder, written as diffusers /
 * PyTorch modules are: each takes the module's parameter-name prefix and asks {@link ModelParams}
 * for `${prefix}.weight` etc., so graph parameters carry diffusers' names.
 *
 * Node count matters more than FLOPs here (per-node dispatch dominates on WebGPU), hence
 * token-major 2-D activations for every Linear (one Gemm each), fused q/k/v projections, and
 * parameter-side reshapes/concats that onnxruntime constant-folds in inference graphs.
 */
import type { Tensor } from '../engine/graph';
import { ONES, ZEROS, torchDefault, type ModelParams } from './params';

export interface ConvOptions {
  stride?: number;
  /** [top, left, bottom, right]; default "same" padding (k-1)/2 on every side. */
  pads?: readonly number[];
  bias?: boolean;
}

/** nn.Conv2d(in, out, k) with PyTorch's default init. */
export function conv2d(p: ModelParams, name: string, x: Tensor, outChannels: number, k: number, opts: ConvOptions = {}): Tensor {
  const inChannels = x.shape[1]!;
  const fanIn = inChannels * k * k;
  const w = p.param(`${name}.weight`, [outChannels, inChannels, k, k], torchDefault(fanIn));
  const b = opts.bias === false ? null : p.param(`${name}.bias`, [outChannels], torchDefault(fanIn));
  const s = opts.stride ?? 1;
  const pad = (k - 1) / 2;
  return p.g.conv(x, w, b, { strides: [s, s], pads: opts.pads ?? [pad, pad, pad, pad], dilations: [1, 1] });
}

/** nn.Linear(in, out) on x [..., in]. */
export function linear(p: ModelParams, name: string, x: Tensor, outFeatures: number, bias = true): Tensor {
  const inFeatures = x.shape[x.rank - 1]!;
  const w = p.param(`${name}.weight`, [outFeatures, inFeatures], torchDefault(inFeatures));
  const b = bias ? p.param(`${name}.bias`, [outFeatures], torchDefault(inFeatures)) : null;
  return p.g.linear(x, w, b);
}

/** nn.GroupNorm(groups, C, eps) with affine weight/bias. */
export function groupNorm(p: ModelParams, name: string, x: Tensor, groups: number, eps: number): Tensor {
  const c = x.shape[1]!;
  return p.g.groupNorm(x, groups, p.param(`${name}.weight`, [c], ONES), p.param(`${name}.bias`, [c], ZEROS), eps);
}

/** nn.LayerNorm(C, eps) over the last axis. */
export function layerNorm(p: ModelParams, name: string, x: Tensor, eps: number): Tensor {
  const c = x.shape[x.rank - 1]!;
  return p.g.layerNorm(x, p.param(`${name}.weight`, [c], ONES), p.param(`${name}.bias`, [c], ZEROS), { epsilon: eps });
}

export interface Projection {
  name: string;
  bias: boolean;
  /** Multiplies this projection's weight (and bias): used to fold attention's 1/√d into q. */
  scale?: number;
}

/**
 * Several nn.Linear layers reading the same input, as one Gemm: their weights (and biases) are
 * concatenated along the output axis. x is [N, in]; the result is [N, sum of outs].
 */
export function fusedLinear(p: ModelParams, x: Tensor, projections: readonly Projection[], outFeatures: number): Tensor {
  const g = p.g;
  const inFeatures = x.shape[1]!;
  const scaled = (t: Tensor, s?: number) => (s === undefined || s === 1 ? t : g.mul(t, s));
  const ws = projections.map((q) => scaled(p.param(`${q.name}.weight`, [outFeatures, inFeatures], torchDefault(inFeatures)), q.scale));
  const withBias = projections.some((q) => q.bias);
  const bs = withBias
    ? projections.map((q) => (q.bias ? scaled(p.param(`${q.name}.bias`, [outFeatures], torchDefault(inFeatures)), q.scale) : g.full([outFeatures], 0)))
    : null;
  return g.gemm(x, g.concat(ws, 0), bs && g.concat(bs, 0), { transB: true });
}

export interface AttentionNames {
  q: string;
  k: string;
  v: string;
  out: string;
  /** Whether q/k/v projections have biases (the output projection always has one). */
  qkvBias: boolean;
}

/**
 * Multi-head scaled-dot-product attention on token-major activations.
 * x: [B*Lq, Cq] queries; context: [B*Lk, Ck] or null for self-attention. Returns [B*Lq, Cq]
 * after the output projection. `mask` (broadcastable to [B,H,Lq,Lk]) is added to the scores.
 */
export function attention(
  p: ModelParams,
  names: AttentionNames,
  x: Tensor,
  context: Tensor | null,
  batch: number,
  heads: number,
  mask: Tensor | null = null,
): Tensor {
  const g = p.g;
  const inner = x.shape[1]!;
  const d = inner / heads;
  const lq = x.shape[0]! / batch;
  const scale = 1 / Math.sqrt(d);
  const b = names.qkvBias;
  // Projections of one input share a Gemm; heads go to [B, n·H, L, d] with one 4-D transpose that moves a single
  // axis (onnxruntime's CPU EP turned the former 5-D layout into slow 5-D transposes), then split on the head axis.
  const toHeads = (t: Tensor, l: number, n: number) => g.split(g.transpose(g.reshape(t, [batch, l, n * heads, d]), [0, 2, 1, 3]), Array(n).fill(heads), 1);
  let q: Tensor;
  let k: Tensor;
  let v: Tensor;
  if (context === null) {
    const qkv = fusedLinear(
      p,
      x,
      [
        { name: names.q, bias: b, scale },
        { name: names.k, bias: b },
        { name: names.v, bias: b },
      ],
      inner,
    );
    [q, k, v] = toHeads(qkv, lq, 3) as [Tensor, Tensor, Tensor];
  } else {
    [q] = toHeads(fusedLinear(p, x, [{ name: names.q, bias: b, scale }], inner), lq, 1) as [Tensor];
    const kv = fusedLinear(
      p,
      context,
      [
        { name: names.k, bias: b },
        { name: names.v, bias: b },
      ],
      inner,
    );
    [k, v] = toHeads(kv, context.shape[0]! / batch, 2) as [Tensor, Tensor];
  }
  let scores = g.matmul(q, g.transpose(k, [0, 1, 3, 2]));
  if (mask) scores = g.add(scores, mask);
  const out = g.matmul(g.softmax(scores, -1), v); // [B, H, Lq, d]
  const merged = g.reshape(g.transpose(out, [0, 2, 1, 3]), [batch * lq, inner]);
  return linear(p, names.out, merged, inner);
}

/** [B, C, H, W] → token-major [B*H*W, C]. */
export function toTokens(p: ModelParams, x: Tensor): Tensor {
  const [b, c, h, w] = x.shape as [number, number, number, number];
  return p.g.reshape(p.g.transpose(x, [0, 2, 3, 1]), [b * h * w, c]);
}

/** Token-major [B*H*W, C] → [B, C, H, W]. */
export function fromTokens(p: ModelParams, t: Tensor, b: number, h: number, w: number): Tensor {
  const c = t.shape[1]!;
  return p.g.transpose(p.g.reshape(t, [b, h, w, c]), [0, 3, 1, 2]);
}

/**
 * diffusers ResnetBlock2D (time_embedding_norm "default", output_scale_factor 1):
 * norm1 → SiLU → conv1 (+ time_emb_proj(SiLU(temb))) → norm2 → SiLU → conv2, plus the input
 * (through a 1×1 conv_shortcut when channels change). `tembAct` is the already SiLU-ed time embedding.
 */
export function resnetBlock2D(p: ModelParams, name: string, x: Tensor, outChannels: number, tembAct: Tensor | null, groups: number, eps: number): Tensor {
  const g = p.g;
  let h = conv2d(p, `${name}.conv1`, g.silu(groupNorm(p, `${name}.norm1`, x, groups, eps)), outChannels, 3);
  if (tembAct) {
    const t = linear(p, `${name}.time_emb_proj`, tembAct, outChannels);
    h = g.add(h, g.reshape(t, [t.shape[0]!, outChannels, 1, 1]));
  }
  h = conv2d(p, `${name}.conv2`, g.silu(groupNorm(p, `${name}.norm2`, h, groups, eps)), outChannels, 3);
  const shortcut = x.shape[1] === outChannels ? x : conv2d(p, `${name}.conv_shortcut`, x, outChannels, 1);
  return g.add(shortcut, h);
}

/** diffusers Downsample2D(use_conv=True): 3×3 stride-2 conv; padding 0 means pad right/bottom by one, as diffusers does. */
export function downsample2D(p: ModelParams, name: string, x: Tensor, padding: number): Tensor {
  const pads = padding === 0 ? [0, 0, 1, 1] : [padding, padding, padding, padding];
  return conv2d(p, `${name}.conv`, x, x.shape[1]!, 3, { stride: 2, pads });
}

/** diffusers Upsample2D(use_conv=True): nearest 2× then 3×3 conv. */
export function upsample2D(p: ModelParams, name: string, x: Tensor): Tensor {
  return conv2d(p, `${name}.conv`, p.g.resizeNearest(x, [1, 1, 2, 2]), x.shape[1]!, 3);
}
