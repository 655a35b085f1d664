/**
 * diffusers AutoencoderKL encoder and decoder forward passes, with diffusers' parameter names.
 * Latent scaling (`scaling_factor`) is the pipeline's business, as in diffusers: encode returns the
 * unscaled posterior, decode takes unscaled latents.
 */
import type { Tensor } from '../engine/graph';
import type { VAEConfig } from './config';
import { attention, conv2d, downsample2D, fromTokens, groupNorm, resnetBlock2D, toTokens, upsample2D } from './layers';
import type { ModelParams } from './params';

/** The VAE's ResnetBlocks, attention and output norms all use eps 1e-6 (diffusers' Encoder/Decoder hard-code it). */
const EPS = 1e-6;

/** diffusers Attention as the VAE mid block builds it: one head over all channels, group_norm first, residual added. */
function midAttention(p: ModelParams, name: string, x: Tensor, groups: number): Tensor {
  const [b, , h, w] = x.shape as [number, number, number, number];
  const names = { q: `${name}.to_q`, k: `${name}.to_k`, v: `${name}.to_v`, out: `${name}.to_out.0`, qkvBias: true };
  const tokens = toTokens(p, groupNorm(p, `${name}.group_norm`, x, groups, EPS));
  return p.g.add(fromTokens(p, attention(p, names, tokens, null, b, 1), b, h, w), x);
}

/** diffusers UNetMidBlock2D without time embedding: resnet, (attention), resnet. */
function midBlock(p: ModelParams, c: VAEConfig, name: string, x: Tensor): Tensor {
  const ch = x.shape[1]!;
  let h = resnetBlock2D(p, `${name}.resnets.0`, x, ch, null, c.norm_num_groups, EPS);
  if (c.mid_block_add_attention) h = midAttention(p, `${name}.attentions.0`, h, c.norm_num_groups);
  return resnetBlock2D(p, `${name}.resnets.1`, h, ch, null, c.norm_num_groups, EPS);
}

function checkSpatial(what: string, c: VAEConfig, h: number, w: number, multiple: number): void {
  if (h % multiple !== 0 || w % multiple !== 0) {
    throw new Error(`VAE ${what}: ${h}×${w} must be divisible by ${multiple} (${c.block_out_channels.length - 1} resolution changes)`);
  }
}

export interface Posterior {
  /** quant_conv output [B, 2·latent_channels, h, w]: mean ‖ logvar, as diffusers' `latent_dist.parameters`. */
  moments: Tensor;
  mean: Tensor;
  /** logvar clamped to [-30, 20] as DiagonalGaussianDistribution does. */
  logvar: Tensor;
}

/** AutoencoderKL.encode: image [B, in_channels, H, W] in [-1, 1] → diagonal Gaussian posterior over latents. */
export function vaeEncode(p: ModelParams, c: VAEConfig, image: Tensor): Posterior {
  const g = p.g;
  const n = c.block_out_channels.length;
  checkSpatial('input', c, image.shape[2]!, image.shape[3]!, 2 ** (n - 1));
  let h = conv2d(p, 'encoder.conv_in', image, c.block_out_channels[0]!, 3);
  c.block_out_channels.forEach((out, i) => {
    for (let j = 0; j < c.layers_per_block; j++) {
      h = resnetBlock2D(p, `encoder.down_blocks.${i}.resnets.${j}`, h, out, null, c.norm_num_groups, EPS);
    }
    if (i < n - 1) h = downsample2D(p, `encoder.down_blocks.${i}.downsamplers.0`, h, 0);
  });
  h = midBlock(p, c, 'encoder.mid_block', h);
  h = g.silu(groupNorm(p, 'encoder.conv_norm_out', h, c.norm_num_groups, EPS));
  let moments = conv2d(p, 'encoder.conv_out', h, 2 * c.latent_channels, 3);
  if (c.use_quant_conv) moments = conv2d(p, 'quant_conv', moments, 2 * c.latent_channels, 1);
  const [mean, logvar] = g.split(moments, [c.latent_channels, c.latent_channels], 1) as [Tensor, Tensor];
  const clamped = g.node('Clip', [logvar, g.scalar(-30), g.scalar(20)], [logvar])[0]!;
  return { moments, mean, logvar: clamped };
}

/** AutoencoderKL.decode: latents [B, latent_channels, h, w] → image [B, out_channels, H, W]. */
export function vaeDecode(p: ModelParams, c: VAEConfig, latents: Tensor): Tensor {
  const g = p.g;
  const n = c.block_out_channels.length;
  let h = c.use_post_quant_conv ? conv2d(p, 'post_quant_conv', latents, c.latent_channels, 1) : latents;
  h = conv2d(p, 'decoder.conv_in', h, c.block_out_channels[n - 1]!, 3);
  h = midBlock(p, c, 'decoder.mid_block', h);
  for (let i = 0; i < n; i++) {
    const out = c.block_out_channels[n - 1 - i]!;
    for (let j = 0; j <= c.layers_per_block; j++) {
      h = resnetBlock2D(p, `decoder.up_blocks.${i}.resnets.${j}`, h, out, null, c.norm_num_groups, EPS);
    }
    if (i < n - 1) h = upsample2D(p, `decoder.up_blocks.${i}.upsamplers.0`, h);
  }
  h = g.silu(groupNorm(p, 'decoder.conv_norm_out', h, c.norm_num_groups, EPS));
  return conv2d(p, 'decoder.conv_out', h, c.out_channels, 3);
}
