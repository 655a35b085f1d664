/**
 * The harness's DreamBooth trainer setup, shared by its pages: diffusers' tiny SD UNet (or a micro cut of it) with
 * seeded latents and prompt embeddings, the same on every EP so losses compare.
 */
import { NoiseGenerator } from '../../src/diffusion/random';
import { buildNoiseSchedule } from '../../src/diffusion/noiseSchedule';
import type { TrainerOptions } from '../../src/dreambooth/trainer';
import { presetSettings } from '../../src/dreambooth/trainSettings';
import { loadModelFolder, type FolderReader } from '../../src/model/folder';
import schedulerConfig from '../../fixtures/diffusers-tiny-sd/scheduler/scheduler_config.json';
import textEncoderConfig from '../../fixtures/diffusers-tiny-sd/text_encoder/config.json';
import textEncoderWeights from '../../fixtures/diffusers-tiny-sd/text_encoder/model.safetensors?url';
import unetConfig from '../../fixtures/diffusers-tiny-sd/unet/config.json';
import unetWeights from '../../fixtures/diffusers-tiny-sd/unet/diffusion_pytorch_model.safetensors?url';
import vaeConfig from '../../fixtures/diffusers-tiny-sd/vae/config.json';
import vaeWeights from '../../fixtures/diffusers-tiny-sd/vae/diffusion_pytorch_model.safetensors?url';

const files: Record<string, unknown> = {
  'unet/config.json': unetConfig,
  'vae/config.json': vaeConfig,
  'text_encoder/config.json': textEncoderConfig,
  'scheduler/scheduler_config.json': schedulerConfig,
};
const weightUrls: Record<string, string> = {
  'unet/diffusion_pytorch_model.safetensors': unetWeights,
  'vae/diffusion_pytorch_model.safetensors': vaeWeights,
  'text_encoder/model.safetensors': textEncoderWeights,
};

/**
 * 'tiny': diffusers' tiny SD UNet with its weights. 'micro': the same layout cut to one down and one up block,
 * one layer each and 16 channels, seeded: SwiftShader runs a few of its steps in a browser test's time.
 */
export type HarnessModel = 'tiny' | 'micro';

const MICRO_UNET = {
  ...unetConfig,
  block_out_channels: [16],
  down_block_types: ['CrossAttnDownBlock2D'],
  up_block_types: ['CrossAttnUpBlock2D'],
  layers_per_block: 1,
  norm_num_groups: 8,
  cross_attention_dim: 16,
  sample_size: 8,
};

/** Reads the harness model's files: the fixture's, or the micro UNet's config with seeded weights. */
export function harnessReader(model: HarnessModel): FolderReader {
  const micro = model === 'micro';
  return async (path) => {
    if (micro && path === 'unet/config.json') return new TextEncoder().encode(JSON.stringify(MICRO_UNET));
    if (micro && path.endsWith('.safetensors')) return null;
    if (path in files) return new TextEncoder().encode(JSON.stringify(files[path]));
    const url = weightUrls[path];
    return url ? new Uint8Array(await (await fetch(url)).arrayBuffer()) : null;
  };
}

/** The harness model's folder. */
export function loadFolder(model: HarnessModel) {
  return loadModelFolder(harnessReader(model));
}

type Folder = Awaited<ReturnType<typeof loadFolder>>;

/** Trainer options with seeded data: the same on every EP. */
export function trainerOptions(folder: Folder, model: HarnessModel, ep: 'webgpu' | 'wasm'): TrainerOptions {
  const side = model === 'micro' ? 8 : 16;
  const g = new NoiseGenerator(7);
  const latent = () => g.randn(4 * side * side);
  const text = () => g.randn(77 * folder.unet.config.cross_attention_dim);
  const data = { instances: [latent(), latent()], priors: [latent(), latent()], instanceText: text(), classText: text(), dataHash: 'harness' };
  return {
    folder,
    schedule: buildNoiseSchedule(schedulerConfig as Parameters<typeof buildNoiseSchedule>[0]),
    settings: { ...presetSettings('quick'), learningRate: 1e-3 },
    data,
    latentShape: [4, side, side] as const,
    identifierRows: [],
    ep,
  };
}
