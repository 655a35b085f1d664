import 'fake-indexeddb/auto';
import { strFromU8, unzipSync } from 'fflate';
import { createStore, keys } from 'idb-keyval';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GenerateRequest, GenerateResult, GenerationBackend, LoadedModel } from '../generation/jobTypes';
import { JobError } from '../protocol/jobs';
import type { JobContext } from '../protocol/server';
import type { StudioJobs } from '../protocol/studioJobs';
import { loadGallery } from '../storage/galleryRecords';
import { createBatchStore } from './batchStore';
import { createGalleryStore } from './galleryStore';
import { createGenerateStore, previewInterval } from './generateStore';
import { testWorker } from './testWorker';

// The worker side here is a stand-in for src/generation's pipeline: it speaks the real protocol over a real
// MessageChannel, steps through `steps` with progress and honours cancel, so the stores' own logic is what is tested.
const backend: GenerationBackend = { ep: 'webgpu', kind: 'software-gpu', adapter: 'google swiftshader', requested: 'webgpu', why: 'you chose GPU' };
const model: LoadedModel = {
  modelId: 'builtin',
  untrained: true,
  components: [],
  width: 64,
  height: 64,
  sizeMultiple: 16,
  backend,
  compileMs: 0,
};
const pngFor = (seed: number) => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, seed & 0xff, (seed >> 8) & 0xff]).buffer;

interface Worker {
  requests: GenerateRequest[];
  /** Resolves when the worker has reported `step` of the current run. */
  reached(step: number): Promise<void>;
}

const ports: { close(): void }[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

let dbCounter = 0;
function setup(options: { busy?: () => string | null } = {}) {
  const requests: GenerateRequest[] = [];
  const waiters: { step: number; resolve(): void }[] = [];
  async function fakeGenerate(request: GenerateRequest, { progress, signal }: JobContext<StudioJobs['generate']['progress']>): Promise<GenerateResult> {
    requests.push(request);
    if (request.prompt === 'fail') throw new JobError('bad-input', 'steps must be at most 999 for this model', 'steps');
    for (let step = 1; step <= request.steps; step++) {
      await new Promise((r) => setTimeout(r, 5));
      if (signal.aborted) throw new JobError('cancelled', 'cancelled');
      const n = request.numImages;
      progress({
        stage: 'denoising',
        step,
        totalSteps: request.steps,
        imageIndex: 0,
        imageCount: n,
        numImages: n,
        previewPngs: [pngFor(step)],
        etaMs: 5 * (request.steps - step),
      });
      for (const w of waiters.filter((w) => w.step === step)) w.resolve();
    }
    const seeds = Array.from({ length: request.numImages }, (_, i) => request.seed + i);
    return {
      modelId: 'builtin',
      untrained: true,
      images: seeds.map((seed) => ({ png: pngFor(seed), seed, parameters: `seed ${seed}` })),
      seeds,
      width: 64,
      height: 64,
      usage: { unetEvaluations: 2 * request.steps * request.numImages, modelMs: 30 * request.numImages, textCache: { hits: 0, misses: 2 } },
      timings: { compileMs: 0, textEncodeMs: 1, denoiseMs: 2, decodeMs: 3, totalMs: 6 },
      backend,
    };
  }
  const served = testWorker({
    loadModel: () => model,
    generate: fakeGenerate,
  });
  ports.push(served);
  const client = served.client;

  const store = createStore(`generate-test-${dbCounter++}`, 'records');
  const gallery = createGalleryStore({ store });
  const generate = createGenerateStore({ worker: client, gallery, backendSetting: () => 'webgpu', ...(options.busy ? { busy: options.busy } : {}) });
  const batch = createBatchStore({ generate });
  const worker: Worker = { requests, reached: (step) => new Promise((resolve) => waiters.push({ step, resolve })) };
  return { store, gallery, generate, batch, worker };
}

describe('previewInterval', () => {
  // The pipeline previews after step i (1-based) when i is a multiple of previewEvery, except after the last step.
  const previewCount = (steps: number) => {
    const every = previewInterval(steps);
    let count = 0;
    for (let i = 1; i < steps; i++) if (i % every === 0) count++;
    return count;
  };

  it.each([1, 2, 5, 19, 20, 21, 25, 30, 39, 40, 41, 59, 60, 61, 150, 999, 1000])(
    'gives about twenty previews (at most 20, every step when there are fewer) for %i steps',
    (steps) => {
      const count = previewCount(steps);
      expect(count).toBeLessThanOrEqual(20);
      expect(count).toBeGreaterThanOrEqual(Math.min(steps - 1, 10));
    },
  );
});

describe('generate store', () => {
  it('a seed problem goes as soon as "Random each time" is chosen, not at the next submit', async () => {
    const { generate, worker } = setup();
    generate.getState().setField('seedMode', 'fixed');
    generate.getState().setField('seed', 'abc');
    await generate.getState().generate();
    expect(generate.getState().problems.seed).toMatch(/seed/i);
    expect(worker.requests).toEqual([]);
    generate.getState().setField('seedMode', 'random');
    expect(generate.getState().problems.seed).toBeUndefined();
  });

  it('sends the checked form, saves each image with its own seed and share of the cost, and remembers the seed', async () => {
    const { store, gallery, generate, worker } = setup();
    const form = generate.getState();
    form.setField('prompt', ' a photo of a cat ');
    form.setField('sampler', 'euler_a');
    form.setField('steps', '3');
    form.setField('guidanceScale', '5');
    form.setField('seedMode', 'fixed');
    form.setField('seed', '41');
    form.setField('numImages', '2');
    await generate.getState().generate();

    expect(worker.requests).toEqual([
      {
        modelId: 'builtin',
        backend: 'webgpu',
        prompt: 'a photo of a cat',
        negativePrompt: '',
        sampler: 'euler_a',
        steps: 3,
        guidanceScale: 5,
        seed: 41,
        numImages: 2,
        previewEvery: 1,
      },
    ]);
    const items = gallery.getState().items;
    expect(items.map((i) => i.params.seed)).toEqual([41, 42]);
    expect(items[0]).toMatchObject({
      params: { prompt: 'a photo of a cat', sampler: 'euler_a', steps: 3, guidanceScale: 5, width: 64, height: 64 },
      usage: { unetEvaluations: 6, modelMs: 30 },
      backend,
      model: { id: 'builtin', untrained: true },
    });
    expect(await loadGallery(store)).toEqual(items);
    const state = generate.getState();
    expect(state.running).toBeNull();
    expect(state.lastRun).toMatchObject({ saved: true, images: [{ seed: 41 }, { seed: 42 }] });
    expect(state.lastSeed).toBe(41);

    state.rollSeed();
    const rolled = generate.getState().form;
    expect(rolled.seedMode).toBe('fixed');
    expect(rolled.seed).not.toBe('41');
    generate.getState().reuseLastSeed();
    expect(generate.getState().form).toMatchObject({ seedMode: 'fixed', seed: '41' });
  });

  it('draws a fresh seed per run while the seed is random', async () => {
    const { generate, worker } = setup();
    generate.getState().setField('steps', '1');
    await generate.getState().generate();
    await generate.getState().generate();
    const [a, b] = worker.requests.map((r) => r.seed);
    expect(a).not.toBe(b);
    expect(generate.getState().lastSeed).toBe(b);
  });

  it('runs nothing while a field is invalid and says which', async () => {
    const { generate, worker } = setup();
    generate.getState().setField('steps', '0');
    await generate.getState().generate();
    expect(worker.requests).toEqual([]);
    expect(generate.getState().problems.steps).toMatch(/^Steps must be from 1 to 1000/);
  });

  it('cancel stops the run within a step and saves nothing', async () => {
    const { store, gallery, generate, worker } = setup();
    generate.getState().setField('steps', '500');
    const run = generate.getState().generate();
    await worker.reached(2);
    await vi.waitFor(() => expect(generate.getState().running?.step).toBeGreaterThanOrEqual(2));
    expect(generate.getState().running).toMatchObject({ stage: 'denoising', totalSteps: 500 });
    expect(generate.getState().running?.previewUrls).toHaveLength(1);
    generate.getState().cancel();
    await run;
    expect(generate.getState().running).toBeNull();
    expect(generate.getState().stopped).toMatch(/^Cancelled generating 1 image at step \d+ of 500; nothing was saved\.$/);
    expect(worker.requests).toHaveLength(1);
    expect(gallery.getState().items).toEqual([]);
    expect(await loadGallery(store)).toEqual([]);
  });

  it('shows why a run failed and how to fix it', async () => {
    const { generate, gallery } = setup();
    generate.getState().setField('prompt', 'fail');
    await generate.getState().generate();
    expect(generate.getState().failure).toEqual({
      reason: 'steps must be at most 999 for this model',
      fix: 'Change the steps and generate again.',
      field: 'steps',
    });
    expect(gallery.getState().items).toEqual([]);
  });

  it('when storage is full, keeps no image of the run but still offers them for download, saying why', async () => {
    const { store, gallery, generate } = setup();
    const realPut = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof realPut>) {
      if (args[1] === 'gallery/index') throw new DOMException('quota exceeded', 'QuotaExceededError');
      return realPut.apply(this, args);
    };
    try {
      generate.getState().setField('numImages', '2');
      generate.getState().setField('steps', '1');
      await generate.getState().generate();
    } finally {
      IDBObjectStore.prototype.put = realPut;
    }
    expect(generate.getState().lastRun).toMatchObject({ saved: false, images: [{}, {}] });
    expect(generate.getState().failure).toBeNull();
    expect(gallery.getState().items).toEqual([]);
    expect(await keys(store)).toEqual([]); // the item records put before the index were rolled back too
    expect(gallery.getState().notices[0]?.text).toMatch(/^The 2 new images were not saved to the gallery\. Browser storage is full/);
  });

  it('renders with the chosen checkpoint, fills its instance prompt, and the gallery names the checkpoint', async () => {
    const { store, gallery, generate, worker } = setup();
    generate.getState().chooseModel({ modelId: 'checkpoint:rex:c1', label: 'Rex · step 400' }, 'a photo of zoqu dog');
    generate.getState().setField('steps', '1');
    await generate.getState().generate();
    expect(worker.requests[0]).toMatchObject({ modelId: 'checkpoint:rex:c1', prompt: 'a photo of zoqu dog' });
    expect(gallery.getState().items[0]?.model).toEqual({ id: 'checkpoint:rex:c1', untrained: true, label: 'Rex · step 400' });
    expect((await loadGallery(store))[0]?.model.label).toBe('Rex · step 400');
    expect(generate.getState().batchDefaults()?.modelId).toBe('checkpoint:rex:c1');
  });

  it('runs nothing while training runs, and says why', async () => {
    const { generate, worker } = setup({ busy: () => 'Training Rex is running (step 4 of 400).' });
    await generate.getState().generate();
    expect(worker.requests).toEqual([]);
    expect(generate.getState().failure?.reason).toBe('Training Rex is running (step 4 of 400).');
    expect(generate.getState().running).toBeNull();
  });

  it('reports the loaded model, untrained and with the backend that runs it', async () => {
    const { generate } = setup();
    await generate.getState().loadModel();
    expect(generate.getState().model).toEqual({ status: 'ready', info: model, failure: null });
  });
});

const batchFile = (lines: string[]) => new File([lines.join('\n')], 'jobs.jsonl', { type: 'application/jsonl' });

describe('batch store', () => {
  it('runs the valid lines in order, keeps going past a failed one, and exports results.jsonl with the images', async () => {
    const { batch, gallery, worker } = setup();
    await batch
      .getState()
      .importFile(
        batchFile([
          '{"custom_id": "cat", "prompt": "a cat", "steps": 2, "seed": 7}',
          '{"custom_id": "bad", "prompt": "a dog", "sampler": "heun"}',
          '{"custom_id": "broken", "prompt": "fail"}',
          '{"custom_id": "mug", "prompt": "a mug", "steps": 1, "num_images": 2, "seed": 9}',
        ]),
      );
    expect(batch.getState().queue?.invalid).toEqual([
      { line: 2, field: '/sampler', message: 'line 2: /sampler must be one of DDIM, Euler a, DPM++ 2M (or ddim, euler_a, dpmpp_2m; any case)' },
    ]);
    await batch.getState().start();

    expect(worker.requests.map((r) => r.prompt)).toEqual(['a cat', 'fail', 'a mug']);
    expect(worker.requests[2]).toMatchObject({ backend: 'webgpu', steps: 1, seed: 9, numImages: 2, sampler: 'dpmpp_2m', guidanceScale: 7.5 }); // form defaults fill the gaps
    expect(batch.getState().queue?.lines.map((l) => l.status)).toEqual(['done', 'failed', 'done']);
    expect(gallery.getState().items.map((i) => [i.customId, i.params.seed])).toEqual([
      ['mug', 9],
      ['mug', 10],
      ['cat', 7],
    ]);

    const archive = unzipSync(new Uint8Array(await batch.getState().archive()!.arrayBuffer()));
    const results = strFromU8(archive['results.jsonl']!)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(results).toEqual([
      {
        custom_id: 'cat',
        images: ['images/cat-0.png'],
        seeds: [7],
        usage: { unet_evaluations: 4, model_ms: 30 },
        backend: { ep: 'webgpu', kind: 'software-gpu' },
      },
      { custom_id: 'broken', error: { message: 'steps must be at most 999 for this model' } },
      {
        custom_id: 'mug',
        images: ['images/mug-0.png', 'images/mug-1.png'],
        seeds: [9, 10],
        usage: { unet_evaluations: 4, model_ms: 60 },
        backend: { ep: 'webgpu', kind: 'software-gpu' },
      },
    ]);
    expect(archive['images/mug-1.png']).toEqual(new Uint8Array(pngFor(10)));
  });

  it('cancel stops the running line, drops the waiting ones and saves nothing of the stopped line', async () => {
    const { batch, gallery, worker } = setup();
    await batch
      .getState()
      .importFile(
        batchFile(['{"custom_id": "a", "prompt": "a", "steps": 1}', '{"custom_id": "b", "prompt": "b", "steps": 40}', '{"custom_id": "c", "prompt": "c"}']),
      );
    const run = batch.getState().start();
    await worker.reached(3);
    batch.getState().cancel();
    await run;
    expect(batch.getState().queue?.lines.map((l) => l.status)).toEqual(['done', 'cancelled', 'cancelled']);
    expect(worker.requests.map((r) => r.prompt)).toEqual(['a', 'b']);
    expect(gallery.getState().items.map((i) => i.customId)).toEqual(['a']);
    expect(batch.getState().running).toBe(false);
  });

  it('cancelling the running line from the run panel stops the whole batch', async () => {
    const { batch, generate, worker } = setup();
    await batch.getState().importFile(batchFile(['{"custom_id": "a", "prompt": "a", "steps": 40}', '{"custom_id": "b", "prompt": "b"}']));
    const run = batch.getState().start();
    await worker.reached(2);
    generate.getState().cancel();
    await run;
    expect(batch.getState().queue?.lines.map((l) => [l.status, l.error])).toEqual([
      ['cancelled', 'cancelled while running'],
      ['cancelled', 'cancelled before it ran'],
    ]);
    expect(worker.requests).toHaveLength(1);
  });

  it('refuses a file that is not UTF-8 text, saying what a batch file is', async () => {
    const { batch } = setup();
    await batch.getState().importFile(new File([Uint8Array.from([0xff, 0xfe, 0x00, 0xd8])], 'photo.jpg'));
    expect(batch.getState().queue).toBeNull();
    expect(batch.getState().message).toBe('photo.jpg is not UTF-8 text. A batch file is JSON Lines: one JSON request per line.');
  });
});
