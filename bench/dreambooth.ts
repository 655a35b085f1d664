/**
 * `npm run bench:dreambooth`: the whole DreamBooth flow of the studio, timed, printed as JSON — the worker's own
 * services (GenerationService, generateClassPriors, TrainingService) over a real IndexedDB (fake-indexeddb) in this
 * Node process on onnxruntime-web's wasm EP, with the built-in model and the bundled sample subject (four cat emoji):
 *
 *   class priors (images/s) → training (steps/s, ms/step, with its checkpoint writes: ms and bytes) → checkpoint
 *   read (ms) → one sample from the trained checkpoint (ms) → the recontextualization grid.
 *
 * and, unless --no-browser, the same train step on WebGPU and wasm in headless Chromium through the harness page
 * (e2e/harness/dreambooth.html: diffusers' tiny UNet, since SwiftShader is ~25× slower than wasm).
 *
 * Options: --preset=quick|object|pet (default quick), --steps=N (training steps, default the preset's), --lr=X,
 * --unet=lora|full (override the preset), --priors=N
 * (class images, default 8), --sampling-steps=N (priors, validation, samples; default 20), --threads=N (wasm),
 * --grid=PATH (write a PNG: row 1 the base model, row 2 the trained checkpoint; columns the instance prompt, then the
 * recontextualization prompts),
 * --no-browser, --no-build.
 */
import 'fake-indexeddb/auto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createStore, set } from 'idb-keyval';
import type { Page } from 'playwright-core';
import { cropPhoto } from '../src/cli/photoPixels';
import { generateClassPriors } from '../src/dreambooth/classPriors';
import { checkpointModels } from '../src/dreambooth/checkpointModels';
import { checkpointModelId, type TrainProgress } from '../src/dreambooth/jobTypes';
import { RECONTEXT_SEED, recontextPrompts } from '../src/subjects/recontextPrompts';
import { TrainingService } from '../src/dreambooth/trainingJob';
import { presetSettings, type PresetId } from '../src/dreambooth/trainSettings';
import { GenerationService } from '../src/generation/generationService';
import type { GenerateResult } from '../src/generation/jobTypes';
import { gridPng, pngToRgb } from '../src/export/imageGrid';
import { loadCheckpoint } from '../src/storage/dreamboothRecords';
import { blobKey, subjectKey } from '../src/storage/subjectRecords';
import { SAMPLE_SUBJECT } from '../src/subjects/sampleSubject';
import type { Subject } from '../src/subjects/subject';
import { probeBackend } from '../src/worker/backendProbe';
import type { DreamBoothRun } from '../e2e/harness/dreambooth';
import { flag, option, withHarnessPage } from './harness-page';

const preset = option('preset', 'quick') as PresetId;
const priorsCount = Number(option('priors', '8'));
const samplingSteps = Number(option('sampling-steps', '20'));
const threads = Number(option('threads', String(Math.min(4, cpus().length))));
const gridPath = option('grid', '');
const PORT = 4181;

const noSignal = new AbortController().signal;
const ctx = <P>(progress: (p: P) => void = () => {}) => ({ signal: noSignal, progress, transfer: () => {} });

async function nodeFlow() {
  const store = createStore('bench-dreambooth', 'records');
  const generation = new GenerationService(
    probeBackend({ gpu: undefined, crossOriginIsolated: true, hardwareConcurrency: threads + 1 }),
    checkpointModels(store),
  );
  const training = new TrainingService(generation, store, cropPhoto);
  const emoji = (file: string) => readFileSync(`node_modules/emoji-datasource-google/img/google/64/${file}`);
  const subject: Subject = {
    id: 'sample-cat',
    name: SAMPLE_SUBJECT.name,
    classNoun: SAMPLE_SUBJECT.classNoun,
    identifier: 'zovy',
    createdAt: 0,
    photos: SAMPLE_SUBJECT.photos.map((p) => ({
      sha256: p.emojiImage,
      fileName: p.fileName,
      mime: 'image/png',
      width: 64,
      height: 64,
      cropSha256: `crop-${p.emojiImage}`,
      cropResolution: 64,
      thumbnailSha256: p.emojiImage,
    })),
  };
  await set(subjectKey(subject.id), subject, store);
  for (const p of SAMPLE_SUBJECT.photos) await set(blobKey(`crop-${p.emojiImage}`), new Blob([emoji(p.emojiImage)]), store);

  const settings = { ...presetSettings(preset), classImages: priorsCount, samplingSteps, validationEvery: 0 };
  if (option('steps', '')) settings.steps = Number(option('steps', ''));
  if (option('lr', '')) settings.learningRate = Number(option('lr', ''));
  if (option('unet', '')) settings.unet = option('unet', '') as typeof settings.unet;
  settings.checkpointEvery = Math.max(1, Math.floor(settings.steps / 4));

  let t0 = performance.now();
  const priors = await generateClassPriors(
    generation,
    store,
    {
      classNoun: subject.classNoun,
      count: priorsCount,
      seed: 0,
      sampler: settings.sampler,
      steps: samplingSteps,
      guidanceScale: settings.guidanceScale,
      backend: 'wasm',
    },
    ctx(),
  );
  const priorsMs = performance.now() - t0;

  const checkpoints: { step: number; bytes: number }[] = [];
  const checkpointStages: number[] = [];
  let lastStage = 0;
  t0 = performance.now();
  const trained = await training.train(
    { subjectId: subject.id, settings, priorKeys: priors.keys, resume: false, backend: 'wasm' },
    ctx<TrainProgress>((p) => {
      if (p.kind === 'stage' && p.stage === 'checkpointing') lastStage = performance.now();
      if (p.kind === 'checkpoint') {
        checkpoints.push({ step: p.checkpoint.step, bytes: p.checkpoint.bytes });
        checkpointStages.push(performance.now() - lastStage);
      }
    }),
  );
  const trainWallMs = performance.now() - t0;

  t0 = performance.now();
  const saved = await loadCheckpoint(store, subject.id);
  await saved!.parts.state!.arrayBuffer();
  const checkpointReadMs = performance.now() - t0;

  const modelId = checkpointModelId(subject.id, trained.checkpoint.id);
  const request = (prompt: string, model: string) => ({
    modelId: model,
    prompt,
    sampler: settings.sampler,
    steps: samplingSteps,
    guidanceScale: settings.guidanceScale,
    seed: RECONTEXT_SEED,
    numImages: 1,
    previewEvery: 0,
    backend: 'wasm' as const,
  });
  // The first sample compiles the checkpoint's sessions; the second is what a person waits for afterwards.
  t0 = performance.now();
  await generation.generate(request(`a photo of ${subject.identifier} cat`, modelId), ctx());
  const firstSampleMs = performance.now() - t0;
  t0 = performance.now();
  await generation.generate(request(`a photo of ${subject.identifier} cat`, modelId), ctx());
  const sampleMs = performance.now() - t0;

  if (gridPath) {
    const prompts = [`a photo of ${subject.identifier} ${subject.classNoun}`, ...recontextPrompts(subject.identifier, subject.classNoun)];
    const rows: GenerateResult[] = [];
    for (const model of ['builtin', modelId]) for (const p of prompts) rows.push(await generation.generate(request(p, model), ctx()));
    const tiles = rows.map((r) => pngToRgb(r.images[0]!.png));
    writeFileSync(gridPath, gridPng(tiles, 64, prompts.length));
  }
  await generation.unloadModels();
  return {
    preset,
    settings: {
      steps: settings.steps,
      learningRate: settings.learningRate,
      batchSize: settings.batchSize,
      priorLossWeight: settings.priorLossWeight,
      unet: settings.unet,
      loraRank: settings.loraRank,
      textEncoder: settings.textEncoder,
      samplingSteps,
    },
    priors: { images: priors.generated, ms: Math.round(priorsMs), imagesPerSecond: +(priors.generated / (priorsMs / 1000)).toFixed(3) },
    training: {
      steps: trained.step,
      msPerStep: Math.round(trained.timings.trainMs / trained.step),
      stepsPerSecond: +(trained.step / (trained.timings.trainMs / 1000)).toFixed(3),
      prepareMs: Math.round(trained.timings.prepareMs),
      compileMs: Math.round(trained.timings.compileMs),
      wallMs: Math.round(trainWallMs),
    },
    checkpoint: {
      bytes: checkpoints.at(-1)?.bytes,
      weightBytes: trained.checkpoint.weightBytes,
      writeMs: checkpointStages.map(Math.round),
      readMs: Math.round(checkpointReadMs),
    },
    sample: { firstMs: Math.round(firstSampleMs), ms: Math.round(sampleMs) },
    ...(gridPath ? { grid: gridPath } : {}),
  };
}

async function browserRuns(): Promise<Record<string, DreamBoothRun>> {
  const { value } = await withHarnessPage('dreambooth', PORT, async (page: Page) => {
    const out: Record<string, DreamBoothRun> = {};
    for (const ep of ['wasm', 'webgpu'] as const) out[ep] = await page.evaluate(({ e }) => window.dreamboothHarness.train(e, 2), { e: ep });
    return out;
  });
  return value;
}

const result = {
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, load: loadavg().map((l) => +l.toFixed(2)) },
  node: { ep: 'wasm', threads, ...(await nodeFlow()) },
  ...(flag('no-browser') ? {} : { chromium: await browserRuns() }),
};
console.log(JSON.stringify(result, null, 2));
