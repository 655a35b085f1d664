/**
 * Browser harness for the DreamBooth trainer (e2e/dreambooth-webgpu.spec.ts): the studio's train step
 * (src/dreambooth/trainer.ts, LoRA + prior preservation) on diffusers' tiny SD UNet, on a chosen EP, with the same
 * seeded latents and prompt embeddings on both, so the loss curves compare.
 */
import { NoiseGenerator } from '../../src/diffusion/random';
import { buildNoiseSchedule } from '../../src/diffusion/noiseSchedule';
import { DreamBoothTrainer } from '../../src/dreambooth/trainer';
import { presetSettings } from '../../src/dreambooth/trainSettings';
import { STATE } from '../../src/engine/optim/trainStep';
import type { BackendReport } from '../../src/engine/runtime/backend';
import { loadModelFolder } from '../../src/model/folder';
import schedulerConfig from '../../fixtures/diffusers-tiny-sd/scheduler/scheduler_config.json';
import textEncoderConfig from '../../fixtures/diffusers-tiny-sd/text_encoder/config.json';
import textEncoderWeights from '../../fixtures/diffusers-tiny-sd/text_encoder/model.safetensors?url';
import unetConfig from '../../fixtures/diffusers-tiny-sd/unet/config.json';
import unetWeights from '../../fixtures/diffusers-tiny-sd/unet/diffusion_pytorch_model.safetensors?url';
import vaeConfig from '../../fixtures/diffusers-tiny-sd/vae/config.json';
import vaeWeights from '../../fixtures/diffusers-tiny-sd/vae/diffusion_pytorch_model.safetensors?url';

export interface DreamBoothRun {
  backend: BackendReport;
  losses: number[];
  /** Bytes of the checkpoint written after the last step. */
  checkpointBytes: number;
  msPerStep: number;
  /** Building the step and creating its sessions. */
  createMs: number;
  /** ‖θ_after − θ_before‖ of the trainable vector: the update the optimizer made, which a forward-only run would not. */
  updateNorm: number;
}

const files: Record<string, unknown> = {
  'unet/config.json': unetConfig,
  'vae/config.json': vaeConfig,
  'text_encoder/config.json': textEncoderConfig,
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

async function train(ep: 'webgpu' | 'wasm', steps: number, model: HarnessModel = 'tiny'): Promise<DreamBoothRun> {
  const micro = model === 'micro';
  const folder = await loadModelFolder(async (path) => {
    if (micro && path === 'unet/config.json') return new TextEncoder().encode(JSON.stringify(MICRO_UNET));
    if (micro && path.endsWith('.safetensors')) return null;
    if (path in files) return new TextEncoder().encode(JSON.stringify(files[path]));
    const url = weightUrls[path];
    return url ? new Uint8Array(await (await fetch(url)).arrayBuffer()) : null;
  });
  const side = micro ? 8 : 16;
  const g = new NoiseGenerator(7);
  const latent = () => g.randn(4 * side * side);
  const text = () => g.randn(77 * folder.unet.config.cross_attention_dim);
  const data = { instances: [latent(), latent()], priors: [latent(), latent()], instanceText: text(), classText: text(), dataHash: 'harness' };
  const c0 = performance.now();
  const trainer = await DreamBoothTrainer.create({
    folder,
    schedule: buildNoiseSchedule(schedulerConfig as Parameters<typeof buildNoiseSchedule>[0]),
    settings: { ...presetSettings('quick'), learningRate: 1e-3 },
    data,
    latentShape: [4, side, side],
    identifierRows: [],
    ep,
  });
  const createMs = performance.now() - c0;
  const params = async () => (await trainer.runtime.exportState([STATE.params]))[STATE.params]!;
  try {
    const before = await params();
    const losses: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) losses.push((await trainer.trainStep()).loss);
    const msPerStep = (performance.now() - t0) / steps;
    const after = await params();
    const updateNorm = Math.sqrt(after.reduce((sum, v, i) => sum + (v - before[i]!) ** 2, 0));
    const { file } = await trainer.checkpoint();
    return { backend: trainer.backend, losses, checkpointBytes: file.byteLength, msPerStep, createMs, updateNorm };
  } finally {
    await trainer.dispose();
  }
}

const harness = {
  train,
  adapter: async () => (await navigator.gpu?.requestAdapter())?.info.architecture ?? null,
};

declare global {
  interface Window {
    dreamboothHarness: typeof harness;
  }
}

window.dreamboothHarness = harness;
document.body.dataset.ready = 'true';
