/**
 * Browser harness for the DreamBooth trainer (e2e/dreambooth-webgpu.spec.ts): the studio's train step
 * (src/dreambooth/trainer.ts, LoRA + prior preservation) on diffusers' tiny SD UNet, on a chosen EP, with the same
 * seeded latents and prompt embeddings on both, so the loss curves compare.
 */
import { NoiseGenerator } from '../../src/diffusion/random';
import { DreamBoothTrainer } from '../../src/dreambooth/trainer';
import { STATE } from '../../src/engine/optim/trainStep';
import type { BackendReport } from '../../src/engine/runtime/backend';
import { resolveGenerateRequest } from '../../src/generation/generateRequest';
import { loadGenerationModel } from '../../src/generation/generationModel';
import { GenerationPipeline } from '../../src/generation/generationPipeline';
import { InferenceBackend } from '../../src/generation/inferenceBackend';
import type { GenerationBackend } from '../../src/generation/jobTypes';
import { deviceLoss, resumeSaved } from './deviceLoss';
import { harnessReader, loadFolder, trainerOptions, type HarnessModel } from './dreamboothModel';

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

export interface ValidationRun {
  backend: GenerationBackend;
  /** The image of each set of trained values (PNG bytes as plain arrays: they cross page.evaluate as JSON). */
  pngs: number[][];
  /** Compilation per request: the second set of values must not rebuild anything. */
  compileMs: number[];
}

/**
 * Validation samples as the training job makes them: a pipeline reading the trainer's parameters in place
 * (GenerationPipeline's TrainedInputs) on the tiny model with LoRA and the identifier's embedding row training. No
 * train steps (SwiftShader is slow): the parameters are set to two seeded perturbations in turn, the same on every EP;
 * the pipeline is pointed at them once, so the second image shows it reads the trainer's tensor where it is. Then two
 * more sets go, as a stored checkpoint's values on the CPU, to a pipeline of their own, as the studio's Generate does.
 */
async function validation(ep: 'webgpu' | 'wasm'): Promise<ValidationRun> {
  const model = await loadGenerationModel({ id: 'tiny', revision: 'harness', read: harnessReader('tiny') });
  const prompt = 'a photo of zovy cat';
  const ids = (text: string) => BigInt64Array.from(model.tokenizer.tokenize(text), BigInt);
  const o = trainerOptions(model.folder, 'tiny', ep);
  const trainer = await DreamBoothTrainer.create({
    ...o,
    settings: { ...o.settings, textEncoder: 'identifier' },
    data: { ...o.data, instanceText: ids(prompt), classText: ids('a photo of cat') },
    identifierRows: [model.tokenizer.tokenize(prompt)[1]!],
  });
  const backend = await InferenceBackend.open({ preference: ep });
  const live = new GenerationPipeline({ ...model, id: 'validation', key: 'validation' }, backend, trainer.trainedInputs);
  const stored = new GenerationPipeline({ ...model, id: 'checkpoint', key: 'checkpoint' }, backend, trainer.trainedInputs);
  const initial = (await trainer.runtime.exportState([STATE.params]))[STATE.params]!;
  const run: ValidationRun = { backend: backend.report, pngs: [], compileMs: [] };
  try {
    for (const seed of [1, 2, 3, 4]) {
      const noise = new NoiseGenerator(seed).randn(initial.length);
      const values = initial.map((v, i) => v + 0.05 * noise[i]!);
      const pipeline = seed <= 2 ? live : stored;
      if (seed <= 2) {
        trainer.runtime.importState({ [STATE.params]: values });
        if (seed === 1) await live.setTrainedValues(trainer.runtime.stateTensor(STATE.params));
      } else await stored.setTrainedValues(values, { id: 'checkpoint', tokenizer: model.tokenizer });
      const request = resolveGenerateRequest(
        { modelId: pipeline.model.id, prompt, sampler: 'dpmpp_2m', steps: 1, guidanceScale: 1, seed: 3, numImages: 1, previewEvery: 0 },
        pipeline.model,
      );
      const result = await pipeline.generate(request);
      run.pngs.push(Array.from(new Uint8Array(result.images[0]!.png)));
      run.compileMs.push(result.timings.compileMs);
    }
    return run;
  } finally {
    await live.dispose();
    await stored.dispose();
    await trainer.dispose();
  }
}

const harness = {
  train,
  validation,
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
