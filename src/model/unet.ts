/**
 * diffusers UNet2DConditionModel forward pass (the subset {@link parseUNetConfig} accepts),
 * with diffusers' parameter names.
 */
import type { Tensor } from '../engine/graph';
import type { UNetConfig } from './config';
import { attention, conv2d, downsample2D, fromTokens, groupNorm, layerNorm, linear, resnetBlock2D, toTokens, upsample2D } from './layers';
import type { ModelParams } from './params';

/** Per-block settings derived from the config the way UNet2DConditionModel.__init__ derives them. */
interface Resolved {
  heads: number[];
  transformerLayers: number[];
  timeEmbedDim: number;
}

function resolve(c: UNetConfig): Resolved {
  const n = c.block_out_channels.length;
  const list = (v: number | number[]) => (typeof v === 'number' ? new Array<number>(n).fill(v) : v);
  return {
    // diffusers: `num_attention_heads = num_attention_heads or attention_head_dim` (a historical misnomer).
    heads: list(c.attention_head_dim),
    transformerLayers: list(c.transformer_layers_per_block),
    timeEmbedDim: c.time_embedding_dim ?? c.block_out_channels[0]! * 4,
  };
}

/** Sinusoidal frequencies exp(-ln(10000)·i / (half − freq_shift)), rounded to float32 as PyTorch computes them. */
function timestepFrequencies(dim: number, freqShift: number): Float32Array {
  const half = dim / 2;
  const f = Math.fround;
  const out = new Float32Array(half);
  const logMax = f(-Math.log(10000));
  for (let i = 0; i < half; i++) out[i] = f(Math.exp(f(f(logMax * i) / f(half - freqShift))));
  return out;
}

/** diffusers Timesteps: [B] timesteps → [B, dim] sinusoidal embedding ([cos, sin] when flip_sin_to_cos). */
function timeProjection(p: ModelParams, c: UNetConfig, timestep: Tensor, dim: number): Tensor {
  const g = p.g;
  if (dim % 2 !== 0) throw new Error(`UNet: block_out_channels[0] = ${dim} must be even for the sinusoidal timestep embedding`);
  const t = g.reshape(g.cast(timestep, 'float32'), [timestep.shape[0]!, 1]);
  const args = g.mul(t, g.constant(timestepFrequencies(dim, c.freq_shift), [1, dim / 2]));
  const sin = g.node('Sin', [args], [args])[0]!;
  const cos = g.node('Cos', [args], [args])[0]!;
  return g.concat(c.flip_sin_to_cos ? [cos, sin] : [sin, cos], 1);
}

/** diffusers Transformer2DModel (continuous input, layer_norm blocks) with BasicTransformerBlocks. */
function transformer2D(p: ModelParams, c: UNetConfig, name: string, x: Tensor, context: Tensor, heads: number, layers: number): Tensor {
  const g = p.g;
  const [b, ch, h, w] = x.shape as [number, number, number, number];
  const normed = groupNorm(p, `${name}.norm`, x, c.norm_num_groups, 1e-6);
  let tokens = c.use_linear_projection ? linear(p, `${name}.proj_in`, toTokens(p, normed), ch) : toTokens(p, conv2d(p, `${name}.proj_in`, normed, ch, 1));
  for (let i = 0; i < layers; i++) {
    const blk = `${name}.transformer_blocks.${i}`;
    const attn = (a: string) => ({ q: `${blk}.${a}.to_q`, k: `${blk}.${a}.to_k`, v: `${blk}.${a}.to_v`, out: `${blk}.${a}.to_out.0`, qkvBias: false });
    tokens = g.add(tokens, attention(p, attn('attn1'), layerNorm(p, `${blk}.norm1`, tokens, 1e-5), null, b, heads));
    tokens = g.add(tokens, attention(p, attn('attn2'), layerNorm(p, `${blk}.norm2`, tokens, 1e-5), context, b, heads));
    // FeedForward with GEGLU: proj → (hidden, gate) → hidden · gelu(gate) → net.2
    const proj = linear(p, `${blk}.ff.net.0.proj`, layerNorm(p, `${blk}.norm3`, tokens, 1e-5), ch * 8);
    const [hidden, gate] = g.split(proj, [ch * 4, ch * 4], 1) as [Tensor, Tensor];
    tokens = g.add(tokens, linear(p, `${blk}.ff.net.2`, g.mul(hidden, g.gelu(gate)), ch));
  }
  const out = c.use_linear_projection
    ? fromTokens(p, linear(p, `${name}.proj_out`, tokens, ch), b, h, w)
    : conv2d(p, `${name}.proj_out`, fromTokens(p, tokens, b, h, w), ch, 1);
  return g.add(out, x);
}

export interface UNetInputs {
  /** Noisy latents [B, in_channels, H, W]. */
  sample: Tensor;
  /** Timesteps [B], float32 or int64. */
  timestep: Tensor;
  /** Text embeddings [B, L, cross_attention_dim]. */
  encoderHiddenStates: Tensor;
}

/** UNet2DConditionModel.forward: returns the predicted noise [B, out_channels, H, W]. */
export function unetForward(p: ModelParams, c: UNetConfig, inputs: UNetInputs): Tensor {
  const g = p.g;
  const r = resolve(c);
  const { sample, timestep, encoderHiddenStates } = inputs;
  const [b, , height, width] = sample.shape as [number, number, number, number];
  const n = c.block_out_channels.length;
  const factor = 2 ** (n - 1);
  if (height % factor !== 0 || width % factor !== 0) {
    throw new Error(`UNet: sample ${height}×${width} must be divisible by ${factor} (${n - 1} downsamplings)`);
  }
  if (timestep.shape.join() !== String(b)) throw new Error(`UNet: timestep must have shape [${b}], got [${timestep.shape}]`);
  const ehs = encoderHiddenStates;
  if (ehs.rank !== 3 || ehs.shape[0] !== b || ehs.shape[2] !== c.cross_attention_dim) {
    throw new Error(`UNet: encoder_hidden_states must be [${b}, L, ${c.cross_attention_dim}], got [${ehs.shape}]`);
  }
  const context = g.reshape(ehs, [b * ehs.shape[1]!, c.cross_attention_dim]);
  const groups = c.norm_num_groups;
  const eps = c.norm_eps;

  const ch0 = c.block_out_channels[0]!;
  const tEmb = timeProjection(p, c, timestep, ch0);
  const emb = linear(p, 'time_embedding.linear_2', g.silu(linear(p, 'time_embedding.linear_1', tEmb, r.timeEmbedDim)), r.timeEmbedDim);
  // Every ResnetBlock2D applies SiLU to the same embedding: do it once.
  const tembAct = g.silu(emb);

  let h = conv2d(p, 'conv_in', sample, ch0, c.conv_in_kernel);
  const skips: Tensor[] = [h];
  c.down_block_types.forEach((type, i) => {
    const out = c.block_out_channels[i]!;
    for (let j = 0; j < c.layers_per_block; j++) {
      h = resnetBlock2D(p, `down_blocks.${i}.resnets.${j}`, h, out, tembAct, groups, eps);
      if (type === 'CrossAttnDownBlock2D') h = transformer2D(p, c, `down_blocks.${i}.attentions.${j}`, h, context, r.heads[i]!, r.transformerLayers[i]!);
      skips.push(h);
    }
    if (i < n - 1) {
      h = downsample2D(p, `down_blocks.${i}.downsamplers.0`, h, c.downsample_padding);
      skips.push(h);
    }
  });

  const mid = c.block_out_channels[n - 1]!;
  h = resnetBlock2D(p, 'mid_block.resnets.0', h, mid, tembAct, groups, eps);
  h = transformer2D(p, c, 'mid_block.attentions.0', h, context, r.heads[n - 1]!, r.transformerLayers[n - 1]!);
  h = resnetBlock2D(p, 'mid_block.resnets.1', h, mid, tembAct, groups, eps);

  c.up_block_types.forEach((type, i) => {
    const k = n - 1 - i; // the down block this up block mirrors
    const out = c.block_out_channels[k]!;
    for (let j = 0; j <= c.layers_per_block; j++) {
      h = g.concat([h, skips.pop()!], 1);
      h = resnetBlock2D(p, `up_blocks.${i}.resnets.${j}`, h, out, tembAct, groups, eps);
      if (type === 'CrossAttnUpBlock2D') h = transformer2D(p, c, `up_blocks.${i}.attentions.${j}`, h, context, r.heads[k]!, r.transformerLayers[k]!);
    }
    if (i < n - 1) h = upsample2D(p, `up_blocks.${i}.upsamplers.0`, h);
  });

  h = g.silu(groupNorm(p, 'conv_norm_out', h, groups, eps));
  return conv2d(p, 'conv_out', h, c.out_channels, c.conv_out_kernel);
}
