/**
 * The ONNX graphs the generation loop runs: one whole denoising step (UNet on the guided batch, guidance,
 * sampler update) and the final latent decoder. Shapes are static; one graph per (batch, guided, size).
 */
import { GraphBuilder, type Tensor } from '../engine/graph';
import type { UNetConfig, VAEConfig } from '../model/config';
import { ModelParams, type WeightSource } from '../model/params';
import { unetForward } from '../model/unet';
import { vaeDecode } from '../model/vae';
import { COEFFICIENT_ORDER } from '../diffusion/scheduler';

/** Names of the step graph's inputs and outputs. */
export const STEP_IO = {
  latents: 'latents',
  prevX0: 'prev_x0',
  textEmbeddings: 'text_embeddings',
  /** [timestep, guidance scale, ...COEFFICIENT_ORDER] as float32. */
  params: 'step_params',
  noise: 'noise',
  nextLatents: 'next_latents',
  predX0: 'pred_x0',
} as const;

/** Length of the `step_params` vector. */
export const STEP_PARAM_COUNT = 2 + COEFFICIENT_ORDER.length;

export interface DenoiseStepGraphOptions {
  /** Images denoised together; the UNet runs on 2× this when guided. */
  batch: number;
  /** Classifier-free guidance: unconditional and conditional halves in one UNet call. */
  guided: boolean;
  latentHeight: number;
  latentWidth: number;
  /** Text-embedding sequence length (77 for CLIP). */
  textLength: number;
  /** Prepended to every UNet parameter's graph name (a training graph's names, so its trained values can feed this one). */
  paramPrefix?: string;
}

/**
 * One denoising step as a graph:
 *
 *   x_in  = cin · latents;  out = UNet([x_in, x_in], t, [uncond; cond])  → uncond + g · (cond − uncond)
 *   pred_x0      = p · latents + q · out
 *   next_latents = a · latents + b · pred_x0 + c · prev_x0 + e · out + s · noise
 *
 * with a scheduler's coefficients (src/diffusion/scheduler.ts, planned by stepCoefficients.ts) in `step_params`. Unguided graphs run the
 * UNet on the conditional batch only (guidance scale ≤ 1, as diffusers does).
 */
export function buildDenoiseStepGraph(config: UNetConfig, weights: WeightSource, o: DenoiseStepGraphOptions): GraphBuilder {
  const g = new GraphBuilder('denoise_step');
  const p = new ModelParams(g, weights, { prefix: o.paramPrefix });
  const latentShape = [o.batch, config.in_channels, o.latentHeight, o.latentWidth];
  if (config.out_channels !== config.in_channels) {
    throw new Error(`denoise step: the UNet maps ${config.in_channels} to ${config.out_channels} channels; sampling needs them equal`);
  }
  const modelBatch = o.guided ? 2 * o.batch : o.batch;
  const x = g.input(STEP_IO.latents, 'float32', latentShape);
  const prevX0 = g.input(STEP_IO.prevX0, 'float32', latentShape);
  const text = g.input(STEP_IO.textEmbeddings, 'float32', [modelBatch, o.textLength, config.cross_attention_dim]);
  const params = g.input(STEP_IO.params, 'float32', [STEP_PARAM_COUNT]);
  const noise = g.input(STEP_IO.noise, 'float32', latentShape);

  const scalars = g.split(params, new Array<number>(STEP_PARAM_COUNT).fill(1), 0);
  const [timestep, guidance, cin, cp, cq, ca, cb, cc, ce, cs] = scalars as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const xIn = g.mul(x, cin);
  const sample = o.guided ? g.concat([xIn, xIn], 0) : xIn;
  const raw = unetForward(p, config, { sample, timestep: g.expand(timestep, [modelBatch]), encoderHiddenStates: text });
  p.check('unet weights');
  let out = raw;
  if (o.guided) {
    const [uncond, cond] = g.split(raw, [o.batch, o.batch], 0) as [Tensor, Tensor];
    out = g.add(uncond, g.mul(g.sub(cond, uncond), guidance));
  }
  const x0 = g.add(g.mul(x, cp), g.mul(out, cq));
  const next = g.add(g.add(g.add(g.mul(x, ca), g.mul(x0, cb)), g.add(g.mul(prevX0, cc), g.mul(out, ce))), g.mul(noise, cs));
  g.output(next, STEP_IO.nextLatents);
  g.output(x0, STEP_IO.predX0);
  return g;
}

/** Names of the decoder graph's input and output. */
export const DECODE_IO = { latents: 'latents', image: 'image' } as const;

export interface LatentDecoderGraphOptions {
  batch: number;
  latentHeight: number;
  latentWidth: number;
}

/**
 * AutoencoderKL decoder from the latents the UNet works on: undoes the VAE's scaling (latents / scaling_factor
 * + shift_factor, as diffusers' pipelines do before `vae.decode`) and maps the decoded [-1, 1] image to [0, 1]
 * (clamping is left to the byte conversion).
 */
export function buildLatentDecoderGraph(config: VAEConfig, weights: WeightSource, o: LatentDecoderGraphOptions): GraphBuilder {
  const g = new GraphBuilder('latent_decoder');
  const p = new ModelParams(g, weights);
  const latents = g.input(DECODE_IO.latents, 'float32', [o.batch, config.latent_channels, o.latentHeight, o.latentWidth]);
  let z = g.mul(latents, 1 / config.scaling_factor);
  if (config.shift_factor !== null) z = g.add(z, config.shift_factor);
  const image = vaeDecode(p, config, z);
  p.check('vae weights', (name) => name.startsWith('encoder.') || name.startsWith('quant_conv.'));
  g.output(g.add(g.mul(image, 0.5), 0.5), DECODE_IO.image);
  return g;
}
