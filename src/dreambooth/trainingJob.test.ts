import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { decode as decodePng } from 'fast-png';
import { createStore, set } from 'idb-keyval';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinModelSource, loadGenerationModel } from '../generation/generationModel';
import { GenerationService } from '../generation/generationService';
import type { FolderReader } from '../model/folder';
import { cropPhoto } from '../cli/photoPixels';
import { readPngParameters } from '../export/pngImage';
import { getLatents, listCheckpoints, loadCheckpoint, loadRunLog, putPrior } from '../storage/dreamboothRecords';
import { blobKey, subjectKey } from '../storage/subjectRecords';
import type { Subject } from '../subjects/subject';
import { probeBackend } from '../worker/backendProbe';
import { GenerationPipeline } from '../generation/generationPipeline';
import { resolveGenerateRequest } from '../generation/generateRequest';
import { checkpointModels, parseCheckpointModelId } from './checkpointModels';
import { bindIdentifier } from './identifierBinding';
import { personalizedModel, trainedValuesFromCheckpoint } from './personalizedModel';
import { checkpointModelId, type TrainProgress, type TrainRequest } from './jobTypes';
import { TrainingService, validationPrompts } from './trainingJob';
import { presetSettings } from './trainSettings';
import { upscaledPng } from './testing/upscaledPng';

// The worker's services as studio.worker.ts wires them, on Node's probe (no WebGPU: wasm), the built-in model and a
// real (fake-indexeddb) IndexedDB store holding a subject made of the bundled sample cat emoji.
const store = createStore('training-job-test', 'records');
const checkpoints = checkpointModels(store);
/** The built-in model with a UNet twice the size: 128-px images, larger than the subjects' 64-px crops. */
const BIG_MODEL = 'builtin-128px';
const bigModel = () => {
  const source = builtinModelSource();
  const read: FolderReader = async (path) => {
    const bytes = await source.read(path);
    if (path !== 'unet/config.json' || !bytes) return bytes;
    const config = JSON.parse(new TextDecoder().decode(bytes)) as { sample_size: number };
    return new TextEncoder().encode(JSON.stringify({ ...config, sample_size: 2 * config.sample_size }));
  };
  return loadGenerationModel({ id: BIG_MODEL, revision: 'test', read });
};
const generation = new GenerationService(probeBackend({ gpu: undefined, crossOriginIsolated: false, hardwareConcurrency: 2 }), (id, base) =>
  id === BIG_MODEL ? bigModel() : checkpoints(id, base),
);
const training = new TrainingService(generation, store, cropPhoto);
afterAll(() => generation.unloadModels());

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const png = (code: string) => readFileSync(`node_modules/emoji-datasource-google/img/google/64/${code}.png`);
const subject: Subject = {
  id: 'cat-1',
  name: 'Emoji cat',
  classNoun: 'cat',
  identifier: 'zovy',
  createdAt: 0,
  photos: ['1f431', '1f638', '1f63a', '1f63b'].map((code) => ({
    sha256: `photo-${code}`,
    fileName: `${code}.png`,
    mime: 'image/png',
    width: 64,
    height: 64,
    cropSha256: `crop-${code}`,
    cropResolution: 64,
    thumbnailSha256: `thumb-${code}`,
  })),
};
const priorKeys = ['1f408', '1f63c'].map((c) => `own-${c}`);

async function seedStore() {
  await set(subjectKey(subject.id), subject, store);
  for (const p of subject.photos) await set(blobKey(p.cropSha256), new Blob([png(p.fileName.slice(0, -4))]), store);
  for (const [i, key] of priorKeys.entries()) {
    const code = key.slice(4);
    await putPrior(store, {
      key,
      png: new Blob([png(code)]),
      prompt: 'a photo of cat',
      seed: i,
      modelKey: 'own',
      sampler: 'own',
      steps: 0,
      guidanceScale: 0,
      width: 64,
      height: 64,
      createdAt: 0,
      source: 'own',
    });
  }
}

const request = (over: Partial<TrainRequest['settings']> = {}, resume = false): TrainRequest => ({
  subjectId: subject.id,
  settings: { ...presetSettings('quick'), steps: 4, checkpointEvery: 2, validationEvery: 4, samplingSteps: 2, keepCheckpoints: 2, classImages: 2, ...over },
  priorKeys,
  resume,
  backend: 'wasm',
});

function run(payload: unknown, onProgress: (p: TrainProgress) => void = () => {}, signal = new AbortController().signal) {
  const events: TrainProgress[] = [];
  const result = training.train(payload, { signal, progress: (p) => (events.push(p), onProgress(p)), transfer: () => undefined });
  return { result, events };
}

describe('the train job on the wasm EP (built-in model, IndexedDB)', () => {
  it('trains, validates from the base model on, checkpoints every N steps keeping the last K, and the checkpoint samples', async () => {
    await seedStore();
    const { result, events } = run(request());
    const done = await result;
    expect(done).toMatchObject({ status: 'finished', step: 4, totalSteps: 4, backend: { ep: 'wasm' } });
    const steps = events.filter((e) => e.kind === 'step');
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    for (const e of steps) expect(e.loss).toBeCloseTo(e.instanceLoss + e.priorLoss, 5);
    const validations = events.filter((e) => e.kind === 'validation');
    expect(validations.map((v) => v.step)).toEqual([0, 4]);
    expect(validations[0]!.images.map((i) => i.prompt)).toEqual(validationPrompts(subject));
    for (const img of validations[1]!.images) expect(decodePng(new Uint8Array(img.png))).toMatchObject({ width: 64, height: 64 });
    const saved = events.filter((e) => e.kind === 'checkpoint').map((e) => e.checkpoint.step);
    expect(saved).toEqual([2, 4]);
    // The fixed batch's loss: the base model's, then at each checkpoint, falling as the LoRA fits.
    const fit = events.filter((e) => e.kind === 'fit');
    expect(fit.map((f) => f.step)).toEqual([0, 2, 4]);
    expect(fit[2]!.loss).toBeLessThan(fit[0]!.loss);
    const listed = await listCheckpoints(store, subject.id);
    expect(listed.map((c) => c.step)).toEqual([2, 4]);
    expect(listed[1]).toMatchObject({ identifier: 'zovy', classNoun: 'cat', baseModelId: 'builtin' });
    // What the Train step shows again after a reload: the loss curve and preview rows up to the newest checkpoint.
    const log = (await loadRunLog(store, subject.id))!;
    expect(log).toMatchObject({ step: 4, totalSteps: 4 });
    expect(log.loss.map((l) => l.step)).toEqual([1, 2, 3, 4]);
    expect(log.loss.map((l) => l.loss)).toEqual(steps.map((e) => e.loss));
    expect(log.fit).toEqual(fit.map((f) => ({ step: f.step, loss: f.loss })));
    expect(log.validations.map((v) => v.step)).toEqual([0, 4]);
    expect(decodePng(new Uint8Array(await log.validations[1]!.images[0]!.png.arrayBuffer()))).toMatchObject({ width: 64 });

    // The checkpoint is a model: generate from it, with the identifier in the prompt.
    const modelId = checkpointModelId(subject.id, done.checkpoint.id);
    const image = await generation.generate(
      { modelId, prompt: 'a photo of zovy cat on the beach', sampler: 'ddim', steps: 2, guidanceScale: 5, seed: 3, numImages: 1 },
      { signal: new AbortController().signal, progress: () => {}, transfer: () => {} },
    );
    expect(image.modelId).toBe(modelId);
    expect(readPngParameters(new Uint8Array(image.images[0]!.png))).toContain(`Model: "${modelId}"`);

    // Both checkpoints sample from the same compiled sessions: switching loads only the values, both ways.
    const [early, late] = listed.map((c) => checkpointModelId(subject.id, c.id)) as [string, string];
    expect(late).toBe(modelId);
    const sample = async (id: string) => {
      const r = await generation.generate(
        { modelId: id, prompt: 'a photo of zovy cat', sampler: 'ddim', steps: 2, guidanceScale: 5, seed: 3, numImages: 1 },
        { signal: new AbortController().signal, progress: () => {}, transfer: () => {} },
      );
      expect(r.modelId).toBe(id);
      return { compileMs: r.timings.compileMs, pixels: decodePng(new Uint8Array(r.images[0]!.png)).data };
    };
    const early1 = await sample(early);
    const late1 = await sample(late);
    const early2 = await sample(early);
    for (const s of [early1, late1, early2]) expect(s.compileMs).toBe(0);
    expect(early2.pixels).toEqual(early1.pixels);
    expect(maxDiff(late1.pixels, early1.pixels)).toBeGreaterThan(0);
    // … and each is the image of its checkpoint merged into the weights.
    const base = await generation.model('builtin');
    for (const [id, got] of [
      [early, early1],
      [late, late1],
    ] as const) {
      const file = new Uint8Array(await (await loadCheckpoint(store, subject.id, parseCheckpointModelId(id)!.checkpointId))!.parts.state!.arrayBuffer());
      const merged = personalizedModel(base, trainedValuesFromCheckpoint(file), { id, key: id, tokenizer: bindIdentifier(base, 'zovy').tokenizer });
      const pipeline = await GenerationPipeline.create(merged, { preference: 'wasm', threads: 2 });
      const request = resolveGenerateRequest(
        { modelId: id, prompt: 'a photo of zovy cat', sampler: 'ddim', steps: 2, guidanceScale: 5, seed: 3, numImages: 1 },
        merged,
      );
      const want = decodePng(new Uint8Array((await pipeline.generate(request)).images[0]!.png)).data;
      await pipeline.dispose();
      expect(maxDiff(got.pixels, want)).toBeLessThanOrEqual(2);
    }
  }, 600_000);

  it('pause checkpoints and stops within a step; resume continues from there; generation meanwhile is refused as busy', async () => {
    const { result, events } = run(request({ steps: 6, checkpointEvery: 100, validationEvery: 0 }), (p) => {
      if (p.kind === 'step' && p.step === 2) training.pause({ subjectId: subject.id });
    });
    // While the run holds the device, a generation is refused with a message naming it.
    await new Promise((r) => setTimeout(r, 50));
    await expect(
      generation.generate(
        { prompt: 'a cat', sampler: 'ddim', steps: 1, guidanceScale: 1, seed: 1, numImages: 1 },
        { signal: new AbortController().signal, progress: () => {}, transfer: () => {} },
      ),
    ).rejects.toThrow(/training “Emoji cat”/);
    const paused = await result;
    expect(paused).toMatchObject({ status: 'paused', step: 2 });
    expect(events.filter((e) => e.kind === 'step').map((e) => e.step)).toEqual([1, 2]);
    expect((await loadCheckpoint(store, subject.id))!.info.step).toBe(2);
    expect((await loadRunLog(store, subject.id))!.loss.map((l) => l.step)).toEqual([1, 2]);

    const resumed = run(request({ steps: 6, checkpointEvery: 100, validationEvery: 0 }, true));
    expect(await resumed.result).toMatchObject({ status: 'finished', step: 6 });
    expect(resumed.events.find((e) => e.kind === 'stage' && /Resuming at step 2/.test(e.message))).toBeTruthy();
    expect(resumed.events.filter((e) => e.kind === 'step').map((e) => e.step)).toEqual([3, 4, 5, 6]);
    // The resumed run's log goes on from the paused one's.
    expect((await loadRunLog(store, subject.id))!.loss.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
  }, 600_000);

  it('a base model larger than the crops trains on crops made again from the stored originals at its size', async () => {
    // The same cat emoji as 192-px originals (each pixel 3×3), as if the photos were larger than the built-in model.
    const large: Subject = { ...subject, id: 'cat-large', photos: subject.photos.map((p) => ({ ...p, sha256: `large-${p.sha256}`, width: 192, height: 192 })) };
    await set(subjectKey(large.id), large, store);
    for (const p of large.photos) {
      await set(blobKey(p.sha256), new Blob([upscaledPng(png(p.fileName.slice(0, -4)), 3)]), store);
      await set(blobKey(p.cropSha256), new Blob([png(p.fileName.slice(0, -4))]), store);
    }
    const sides: number[] = [];
    const service = new TrainingService(generation, store, (bytes, mime, side) => (sides.push(side), cropPhoto(bytes, mime, side)));
    const settings = { ...request().settings, steps: 1, checkpointEvery: 1, validationEvery: 0, priorLossWeight: 0, flip: false };
    const done = await service.train(
      { ...request(), subjectId: large.id, modelId: BIG_MODEL, priorKeys: [], settings },
      { signal: new AbortController().signal, progress: () => {}, transfer: () => {} },
    );
    expect(done).toMatchObject({ status: 'finished', step: 1 });
    expect(sides).toEqual([128, 128, 128, 128]);
    const big = await generation.model(BIG_MODEL);
    for (const p of large.photos) {
      expect((await getLatents(store, `${p.sha256}:square128`, big.key))?.length).toBe(big.latentChannels * (128 / big.vaeFactor) ** 2);
    }
    expect((await listCheckpoints(store, large.id)).at(-1)).toMatchObject({ step: 1, baseModelId: BIG_MODEL });
    // A second run finds their latents cached: it crops nothing again.
    const again = await service.train(
      { ...request(), subjectId: large.id, modelId: BIG_MODEL, priorKeys: [], settings },
      { signal: new AbortController().signal, progress: () => {}, transfer: () => {} },
    );
    expect(again).toMatchObject({ status: 'finished', step: 1 });
    expect(sides).toHaveLength(4);
  }, 300_000);

  it('bad requests are refused naming the field, and nothing is written', async () => {
    const before = await listCheckpoints(store, subject.id);
    await expect(
      training.train(
        { ...request(), settings: { ...request().settings, loraRank: 0 } },
        { signal: new AbortController().signal, progress: () => {}, transfer: () => {} },
      ),
    ).rejects.toMatchObject({ code: 'bad-input', field: 'settings/loraRank' });
    await expect(
      training.train({ ...request(), subjectId: 'nobody' }, { signal: new AbortController().signal, progress: () => {}, transfer: () => {} }),
    ).rejects.toMatchObject({ code: 'bad-input', field: 'subjectId' });
    await expect(
      training.train({ ...request(), priorKeys: 'own-1f408' }, { signal: new AbortController().signal, progress: () => {}, transfer: () => {} }),
    ).rejects.toMatchObject({ code: 'bad-input', field: 'priorKeys', message: '/priorKeys must be an array' });
    await expect(
      training.train({ ...request(), modelId: BIG_MODEL }, { signal: new AbortController().signal, progress: () => {}, transfer: () => {} }),
    ).rejects.toMatchObject({
      code: 'bad-input',
      field: 'modelId',
      message: `${BIG_MODEL} makes 128×128 images, but 1f431.png is only 64×64: replace it with a photo whose shorter side is at least 128 px, or choose a smaller base model on Class priors`,
    });
    // Class images smaller than the model (the built-in model's, kept when the base model changed) are refused too.
    const large = { ...subject, id: 'cat-large-photos', photos: subject.photos.map((p) => ({ ...p, width: 192, height: 192 })) };
    await set(subjectKey(large.id), large, store);
    await expect(
      training.train(
        { ...request(), subjectId: large.id, modelId: BIG_MODEL },
        { signal: new AbortController().signal, progress: () => {}, transfer: () => {} },
      ),
    ).rejects.toMatchObject({
      code: 'bad-input',
      field: 'priorKeys',
      message: `2 class images are smaller than the 128×128 images ${BIG_MODEL} makes (64×64): make class images with this base model on Class priors, or drop the small ones`,
    });
    const checkpoint = checkpointModelId(subject.id, before.at(-1)!.id);
    await expect(
      training.train({ ...request(), modelId: checkpoint }, { signal: new AbortController().signal, progress: () => {}, transfer: () => {} }),
    ).rejects.toMatchObject({
      code: 'bad-input',
      field: 'modelId',
      message: `${checkpoint} is a trained checkpoint, not a base model: train from the model it was trained from`,
    });
    await expect(
      training.train({ ...request(), steps: 4 }, { signal: new AbortController().signal, progress: () => {}, transfer: () => {} }),
    ).rejects.toMatchObject({ code: 'bad-input', field: 'steps', message: '/steps is not a known field' });
    await expect(
      training.train({ ...request(), backend: 'cuda' }, { signal: new AbortController().signal, progress: () => {}, transfer: () => {} }),
    ).rejects.toMatchObject({ code: 'bad-input', field: 'backend' });
    await expect(
      training.train({ ...request(), priorKeys: ['own-missing'] }, { signal: new AbortController().signal, progress: () => {}, transfer: () => {} }),
    ).rejects.toMatchObject({ code: 'bad-input', field: 'priorKeys' });
    expect(await listCheckpoints(store, subject.id)).toEqual(before);
  }, 120_000);
});
