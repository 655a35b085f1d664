/**
 * `npm run bench:dreambooth-ep`: the DreamBooth train step and the sampling step of the built-in model on
 * onnxruntime-web's wasm EP and onnxruntime-node's native CPU EP, same graphs, same threads — to decide which the CLI
 * should run on. Prints JSON (median ms over the timed runs, after warm-up), and what `npm run sample -- --n 4 --steps 20`
 * costs per image on each: the first batch (sessions compiled) and a second one.
 *
 * Options: --preset=quick|object|pet (default quick), --runs=N (default 8), --threads=N (default cores − 1).
 */
import { availableParallelism } from 'node:os';
import { buildNoiseSchedule } from '../src/diffusion/noiseSchedule';
import { DreamBoothTrainer } from '../src/dreambooth/trainer';
import { presetSettings, type PresetId } from '../src/dreambooth/trainSettings';
import { buildDenoiseStepGraph, STEP_IO, STEP_PARAM_COUNT } from '../src/generation/denoiseStepGraph';
import { builtinModelSource, loadGenerationModel } from '../src/generation/generationModel';
import { generationService } from '../src/cli/generationService';
import { BUILTIN_MODEL_ID } from '../src/generation/generationModel';
import { NodeSession, type NodeEp } from '../src/pretrain/nodeSession';
import { option } from './harness-page';

const preset = option('preset', 'quick') as PresetId;
const runs = Number(option('runs', '8'));
const threads = Number(option('threads', String(Math.max(1, availableParallelism() - 1))));

const model = await loadGenerationModel(builtinModelSource());
const { unet, textEncoder } = model.folder;
const L = textEncoder.config.max_position_embeddings;
const D = textEncoder.config.hidden_size;
const latent = [model.latentChannels, model.height / model.vaeFactor, model.width / model.vaeFactor] as const;
const per = latent[0] * latent[1] * latent[2];
const random = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: the first run allocates
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return Math.round(median(ms));
}

async function trainStep(ep: NodeEp) {
  const settings = { ...presetSettings(preset), textEncoder: 'frozen' as const };
  const trainer = await DreamBoothTrainer.create({
    folder: model.folder,
    schedule: buildNoiseSchedule(model.schedulerConfig as Parameters<typeof buildNoiseSchedule>[0]),
    settings,
    data: {
      instances: [0, 1, 2].map(() => random(per)),
      priors: [0, 1].map(() => random(per)),
      instanceText: random(L * D),
      classText: random(L * D),
      dataHash: 'bench',
    },
    latentShape: latent,
    identifierRows: [],
    ep,
    threads,
  });
  try {
    return await timed(() => trainer.trainStep());
  } finally {
    await trainer.dispose();
  }
}

async function sampleStep(ep: NodeEp) {
  const g = buildDenoiseStepGraph(unet.config, unet.weights, { batch: 1, guided: true, latentHeight: latent[1], latentWidth: latent[2], textLength: L });
  const session = await NodeSession.open(g, ep, threads);
  const params = new Float32Array(STEP_PARAM_COUNT).fill(0.5);
  const feeds = {
    [STEP_IO.latents]: random(per),
    [STEP_IO.prevX0]: random(per),
    [STEP_IO.noise]: random(per),
    [STEP_IO.textEmbeddings]: random(2 * L * D),
    [STEP_IO.params]: params,
  };
  try {
    return await timed(() => session.run(feeds));
  } finally {
    await session.release();
  }
}

/** ms per image of a 4-image, 20-step DPM++ 2M batch (guidance 7.5, `npm run sample`'s defaults) through the CLI's service. */
async function sampleBatch(ep: NodeEp) {
  const generation = await generationService(ep, threads);
  const request = { modelId: BUILTIN_MODEL_ID, prompt: 'a photo of a cat', negativePrompt: '', sampler: 'dpmpp_2m' as const, steps: 20 };
  const context = { signal: new AbortController().signal, transfer: () => undefined, progress: () => undefined };
  const perImage = async () => {
    const t0 = performance.now();
    await generation.generate({ ...request, guidanceScale: 7.5, seed: 1, numImages: 4, previewEvery: 0, backend: 'wasm' }, context);
    return Math.round((performance.now() - t0) / 4);
  };
  try {
    return { firstBatchMsPerImage: await perImage(), nextBatchMsPerImage: await perImage() };
  } finally {
    await generation.unloadModels();
  }
}

const result: Record<string, unknown> = { preset, threads, runs };
for (const ep of ['wasm', 'cpu'] as const) {
  result[ep] = { trainStepMs: await trainStep(ep), guidedDenoiseStepMs: await sampleStep(ep), sample: await sampleBatch(ep) };
}
console.log(JSON.stringify(result, null, 2));
