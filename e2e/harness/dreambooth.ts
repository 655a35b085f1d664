/**
 * Browser harness for the DreamBooth trainer (e2e/dreambooth-webgpu.spec.ts): the studio's train step
 * (src/dreambooth/trainer.ts, LoRA + prior preservation) on diffusers' tiny SD UNet, on a chosen EP, with the same
 * seeded latents and prompt embeddings on both, so the loss curves compare.
 */
import { DreamBoothTrainer } from '../../src/dreambooth/trainer';
import { STATE } from '../../src/engine/optim/trainStep';
import type { BackendReport } from '../../src/engine/runtime/backend';
import { deviceLoss, resumeSaved } from './deviceLoss';
import { loadFolder, trainerOptions, type HarnessModel } from './dreamboothModel';

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

async function train(ep: 'webgpu' | 'wasm', steps: number, model: HarnessModel = 'tiny'): Promise<DreamBoothRun> {
  const folder = await loadFolder(model);
  const c0 = performance.now();
  const trainer = await DreamBoothTrainer.create(trainerOptions(folder, model, ep));
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
  deviceLoss,
  resumeSaved,
  adapter: async () => (await navigator.gpu?.requestAdapter())?.info.architecture ?? null,
};

declare global {
  interface Window {
    dreamboothHarness: typeof harness;
  }
}

window.dreamboothHarness = harness;
document.body.dataset.ready = 'true';
