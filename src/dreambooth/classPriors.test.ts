import 'fake-indexeddb/auto';
import { decode as decodePng } from 'fast-png';
import { createStore, keys as storedKeys, type UseStore } from 'idb-keyval';
import { afterAll, describe, expect, it } from 'vitest';
import { GenerationService } from '../generation/generationService';
import { getPriors, hasPriors, priorKey } from '../storage/dreamboothRecords';
import { probeBackend } from '../worker/backendProbe';
import { checkPriorsRequest, consecutiveRuns, generateClassPriors } from './classPriors';
import type { GeneratePriorsRequest, PriorsProgress } from './jobTypes';

// The worker's service as Node's probe finds it: no WebGPU, one wasm thread; the built-in model.
const service = new GenerationService(probeBackend({ gpu: undefined, crossOriginIsolated: false, hardwareConcurrency: 2 }));
afterAll(async () => {
  await service.unloadModels();
});

const request: GeneratePriorsRequest = { classNoun: 'dog', count: 3, seed: 40, sampler: 'ddim', steps: 2, guidanceScale: 7.5, backend: 'wasm' };

/** Runs the job in batches of 2; `onProgress` sees each event after it is recorded. */
function run(store: UseStore, payload: unknown, { signal = new AbortController().signal, onProgress = (_p: PriorsProgress) => {} } = {}) {
  const events: PriorsProgress[] = [];
  const progress = (p: PriorsProgress) => {
    events.push(p);
    onProgress(p);
  };
  const result = generateClassPriors(service, store, payload, { signal, progress, transfer: () => undefined }, { batchSize: 2 });
  return { result, events };
}

describe('generatePriors on the wasm EP (built-in model)', () => {
  const store = createStore('class-priors-test', 'records');

  it('stops after the first batch when cancelled, and a second run makes only the rest; a third makes none', async () => {
    const controller = new AbortController();
    // Cancel as soon as the first batch (2 images of 3) has been stored and its first image reported.
    const first = run(store, request, { signal: controller.signal, onProgress: (p) => p.latest && controller.abort() });
    expect(await first.result.catch((e: unknown) => e)).toMatchObject({ code: 'cancelled' });
    expect(first.events[0]).toMatchObject({ done: 0, total: 3, reused: 0 });
    expect(first.events.filter((e) => e.latest).map((e) => e.done)).toEqual([1, 2]);

    const model = await service.describeModel({ backend: 'wasm' });
    const keys = await Promise.all(
      [40, 41, 42].map((seed) =>
        priorKey({ modelKey: model.key, prompt: 'a photo of dog', seed, sampler: 'ddim', steps: 2, guidanceScale: 7.5, width: 64, height: 64 }),
      ),
    );
    expect(await hasPriors(store, keys)).toEqual([true, true, false]);

    // Resume: the two stored images are reused, one is made.
    const second = run(store, request);
    const resumed = await second.result;
    expect(resumed).toMatchObject({ keys, generated: 1, reused: 2 });
    expect(resumed.backend).toMatchObject({ ep: 'wasm', kind: 'cpu' });
    const latest = second.events.filter((e) => e.latest).map((e) => [e.latest!.key, e.done, e.reused]);
    expect(latest).toEqual([
      [keys[0], 1, 1],
      [keys[1], 2, 2],
      [keys[2], 3, 2],
    ]);
    expect(second.events.at(-1)).toMatchObject({ done: 3, total: 3, etaMs: 0 });

    const records = await getPriors(store, keys);
    expect(records.map((p) => [p?.seed, p?.prompt, p?.source, p?.steps, p?.modelKey])).toEqual(
      [40, 41, 42].map((seed) => [seed, 'a photo of dog', 'generated', 2, model.key]),
    );
    const png = decodePng(new Uint8Array(await records[2]!.png.arrayBuffer()));
    expect([png.width, png.height]).toEqual([64, 64]);
    expect(records[2]!.png.type).toBe('image/png');

    // Everything there: nothing is made. Seeds 41–42 overlap another run's and are found too.
    const third = await run(store, request).result;
    expect(third).toMatchObject({ keys, generated: 0, reused: 3, backend: null });
    const shifted = await run(store, { ...request, seed: 41, count: 2 }).result;
    expect(shifted).toMatchObject({ keys: keys.slice(1), generated: 0, reused: 2 });
  }, 300_000);

  it('makes new images under new keys when the sampling steps change', async () => {
    const before = await run(store, { ...request, count: 1 }).result;
    expect(before.generated).toBe(0);
    const changed = await run(store, { ...request, count: 1, steps: 1 }).result;
    expect(changed.generated).toBe(1);
    expect(changed.keys[0]).not.toBe(before.keys[0]);
    expect((await storedKeys(store)).filter((k) => String(k).startsWith('prior/'))).toHaveLength(4);
  }, 300_000);
});

describe('generatePriors request check', () => {
  it.each([
    [{ ...request, count: 0 }, 'count', 'count must be ≥ 1'],
    [{ ...request, count: 1001 }, 'count', 'count must be ≤ 1000'],
    [{ ...request, steps: 2.5 }, 'steps', 'steps must be an integer'],
    [{ ...request, seed: -1 }, 'seed', 'seed must be ≥ 0'],
    [{ ...request, sampler: 'heun' }, 'sampler', 'sampler must be one of "ddim", "euler_a", "dpmpp_2m"'],
    [{ ...request, guidanceScale: 101 }, 'guidanceScale', 'guidanceScale must be ≤ 100'],
    [{ ...request, backend: 'gpu' }, 'backend', 'backend must be one of "auto", "webgpu", "wasm"'],
    [{ ...request, numImages: 3 }, 'numImages', 'numImages is not a known field'],
    [{ ...request, classNoun: '  ' }, 'classNoun', 'Class noun is empty: say what the subject is, e.g. “dog” or “plush toy”.'],
    [
      { ...request, classNoun: 'dog 2' },
      'classNoun',
      'Class noun must be one to three plain words of letters, e.g. “dog” or “plush toy” (no digits or symbols).',
    ],
    [{ count: 3 }, 'classNoun', 'classNoun is required'],
  ])('refuses %j naming the field', (payload, field, message) => {
    expect(() => checkPriorsRequest(payload)).toThrow(expect.objectContaining({ code: 'bad-input', field, message }));
  });

  it('refuses an unknown model before making anything', async () => {
    const store = createStore('class-priors-bad-model', 'records');
    await expect(run(store, { ...request, modelId: 'sd15' }).result).rejects.toMatchObject({ code: 'bad-input', field: 'modelId' });
    expect(await storedKeys(store)).toEqual([]);
  });
});

describe('consecutiveRuns', () => {
  it('splits missing image indices into runs of consecutive seeds of at most the batch size', () => {
    expect(consecutiveRuns([0, 1, 2, 3, 4, 6, 7, 9], 4)).toEqual([[0, 1, 2, 3], [4], [6, 7], [9]]);
    expect(consecutiveRuns([], 4)).toEqual([]);
  });
});
