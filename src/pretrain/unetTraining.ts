/**
 * The UNet pretraining step: the text encoder (CLIPTextModel) and the UNet trained jointly from scratch on
 * epsilon prediction, as in Stable Diffusion's objective: x_t = √ᾱ_t·z + √(1−ᾱ_t)·ε at uniform t, loss = MSE(ε̂, ε).
 * A share of captions is dropped to the empty prompt so classifier-free guidance has an unconditional model.
 * Latents are the VAE posterior means × scaling_factor, computed once per image (and its mirror image).
 */
import { GraphBuilder } from '../engine/graph';
import { compileTrainStep, type CompiledTrainStep } from '../engine/optim/trainStep';
import { weightedMse } from '../engine/optim/loss';
import { clipTextForward } from '../model/clipText';
import type { CLIPTextConfig, UNetConfig } from '../model/config';
import { ModelParams, type WeightSource } from '../model/params';
import { unetForward } from '../model/unet';
import { addNoise, minSnrWeights, sampleTrainingTimesteps } from '../diffusion/trainingNoise';
import type { NoiseSchedule } from '../diffusion/noiseSchedule';
import { stepGenerator } from './stepRandom';

export const TEXT_PREFIX = 'text_encoder.';
export const UNET_PREFIX = 'unet.';

export interface UnetStepOptions {
  batch: number;
  /** Latent side (the UNet's sample_size). */
  latent: number;
}

export function compileUnetStep(
  unet: { config: UNetConfig; source: WeightSource },
  text: { config: CLIPTextConfig; source: WeightSource },
  o: UnetStepOptions,
): CompiledTrainStep {
  const g = new GraphBuilder('unet_pretrain');
  const tp = new ModelParams(g, text.source, { prefix: TEXT_PREFIX, group: () => 'trainable' });
  const up = new ModelParams(g, unet.source, { prefix: UNET_PREFIX, group: () => 'trainable' });
  const L = text.config.max_position_embeddings;
  const ids = g.input('input_ids', 'int64', [o.batch, L]);
  const sample = g.input('sample', 'float32', [o.batch, unet.config.in_channels, o.latent, o.latent]);
  const timestep = g.input('timestep', 'float32', [o.batch]);
  const target = g.input('target', 'float32', [o.batch, unet.config.out_channels, o.latent, o.latent]);
  const weights = g.input('sample_weight', 'float32', [o.batch]);
  const { lastHiddenState } = clipTextForward(tp, text.config, ids);
  const out = unetForward(up, unet.config, { sample, timestep, encoderHiddenStates: lastHiddenState });
  tp.check('text_encoder weights');
  up.check('unet weights');
  return compileTrainStep(g, weightedMse(g, out, target, weights), { adamw: { weightDecay: 1e-2 } });
}

/** Clean latents of the training items, [items, C·h·w] flat, and which caption list each item has. */
export interface LatentSet {
  readonly latents: Float32Array;
  readonly perItem: number;
  /** Token rows (already framed to the text length) of each caption of each item. */
  readonly captions: readonly (readonly BigInt64Array[])[];
}

/**
 * Feeds of UNet step `step` for the given items: a random caption (or the empty prompt), noise, timesteps, and the
 * per-sample loss weights (a plain mean, or Min-SNR-γ weighted when `snrGamma` is set).
 */
export function unetFeeds(
  set: LatentSet,
  emptyPrompt: BigInt64Array,
  schedule: NoiseSchedule,
  seed: number,
  step: number,
  items: readonly number[],
  dropCaption: number,
  snrGamma?: number,
) {
  const g = stepGenerator(seed, 'unet-batch', step);
  const B = items.length;
  const L = emptyPrompt.length;
  const ids = new BigInt64Array(B * L);
  const x0 = new Float32Array(B * set.perItem);
  items.forEach((item, b) => {
    x0.set(set.latents.subarray(item * set.perItem, (item + 1) * set.perItem), b * set.perItem);
    const options = set.captions[item]!;
    const drop = (g.nextUint32() >>> 8) / 2 ** 24 < dropCaption;
    ids.set(drop ? emptyPrompt : options[g.nextUint32() % options.length]!, b * L);
  });
  const timesteps = sampleTrainingTimesteps(g, schedule, B);
  const noise = g.randn(B * set.perItem);
  return {
    input_ids: ids,
    sample: addNoise(schedule, x0, noise, timesteps),
    timestep: Float32Array.from(timesteps),
    target: noise,
    sample_weight: (snrGamma === undefined ? new Float32Array(B).fill(1) : minSnrWeights(schedule, timesteps, snrGamma)).map((w) => w / B),
  };
}
