import 'fake-indexeddb/auto';
import { createStore } from 'idb-keyval';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getPriors, loadPriorSelection } from '../storage/dreamboothRecords';
import type { Subject } from '../subjects/subject';
import { fakeDreamboothWorker, LARGE_MODEL_ID, testBackend, type FakeWorker } from './dreamboothTesting';
import { createPriorsStore, selectedCount } from './priorsStore';

const workers: FakeWorker[] = [];
afterEach(() => workers.splice(0).forEach((w) => w.close()));

let dbCounter = 0;
function setup(options: { busy?: string | null; subject?: Subject; store?: ReturnType<typeof createStore> } = {}) {
  const store = options.store ?? createStore(`priors-test-${dbCounter++}`, 'records');
  const worker = fakeDreamboothWorker(store);
  workers.push(worker);
  let subject: Subject = options.subject ?? { id: 'dog-1', name: 'Rex', classNoun: 'dog', identifier: 'zoqu', photos: [], createdAt: 0 };
  const priors = createPriorsStore({
    store,
    worker: worker.client,
    activeSubject: () => subject,
    backendSetting: () => 'wasm',
    defaults: () => ({ count: 6, seed: 0, sampler: 'dpmpp_2m', steps: 20, guidanceScale: 7.5 }),
    busy: () => options.busy ?? null,
    resolution: 64,
  });
  return { store, worker, priors, setSubject: (s: Subject) => void (subject = s) };
}

describe('priors store', () => {
  it('starts from the training preset’s count and sampling, and fills the grid as images arrive', async () => {
    const { store, worker, priors } = setup();
    await priors.getState().load();
    expect(priors.getState()).toMatchObject({
      subjectId: 'dog-1',
      classNoun: 'dog',
      images: [],
      form: { count: '6', seed: '0', sampler: 'dpmpp_2m', steps: '20', guidanceScale: '7.5' },
    });

    const seen: number[] = [];
    const unsubscribe = priors.subscribe((s) => s.running && seen.push(s.images.length));
    await priors.getState().generate();
    unsubscribe();
    // The grid grew image by image while the run went on.
    expect([...new Set(seen)]).toEqual([0, 1, 2, 3, 4, 5, 6]);

    expect(worker.priorRequests).toEqual([
      { classNoun: 'dog', count: 6, seed: 0, sampler: 'dpmpp_2m', steps: 20, guidanceScale: 7.5, modelId: 'builtin', backend: 'wasm' },
    ]);
    const s = priors.getState();
    expect(s.running).toBeNull();
    expect(s.lastRun).toMatchObject({ generated: 6, reused: 0, backend: testBackend });
    expect(s.images).toHaveLength(6);
    const selection = await loadPriorSelection(store, 'dog-1');
    expect(selection).toEqual({
      subjectId: 'dog-1',
      classNoun: 'dog',
      keys: s.images.map((i) => i.key),
      dropped: [],
      settings: { count: 6, seed: 0, sampler: 'dpmpp_2m', steps: 20, guidanceScale: 7.5, modelId: 'builtin' },
    });
  });

  it('the chosen base model makes the class images, is saved with the selection and comes back after a reload', async () => {
    const { store, worker, priors } = setup();
    await priors.getState().load();
    expect(priors.getState().baseModelId).toBe('builtin');
    await priors.getState().chooseBaseModel('imported:m1');
    expect(priors.getState().baseModelId).toBe('imported:m1');
    expect((await loadPriorSelection(store, 'dog-1'))?.settings.modelId).toBe('imported:m1');
    await priors.getState().generate();
    expect(worker.priorRequests[0]).toMatchObject({ modelId: 'imported:m1' });
    // Dropping an image keeps the choice.
    await priors.getState().toggleDropped(priors.getState().images[0]!.key);
    expect((await loadPriorSelection(store, 'dog-1'))?.settings.modelId).toBe('imported:m1');
    // A new page reads it back.
    const reloaded = setup({ store });
    await reloaded.priors.getState().load();
    expect(reloaded.priors.getState().baseModelId).toBe('imported:m1');
  });

  it('a second run reuses what exists and says so; a larger count makes only the new ones', async () => {
    const { priors } = setup();
    await priors.getState().generate();
    const first = priors.getState().images.map((i) => i.key);
    priors.getState().setField('count', '8');
    await priors.getState().generate();
    const s = priors.getState();
    expect(s.lastRun).toMatchObject({ generated: 2, reused: 6 });
    expect(s.images.map((i) => i.key).slice(0, 6)).toEqual(first);
    expect(s.images.map((i) => i.reused)).toEqual([true, true, true, true, true, true, false, false]);
  });

  it('dropping an image is saved, survives a reload and a re-run, and leaves it out of the count', async () => {
    const { store, priors } = setup();
    await priors.getState().generate();
    const key = priors.getState().images[2]!.key;
    await priors.getState().toggleDropped(key);
    expect(selectedCount(priors.getState().images)).toBe(5);
    expect((await loadPriorSelection(store, 'dog-1'))?.dropped).toEqual([key]);

    const reloaded = setup({ store }).priors;
    await reloaded.getState().load();
    expect(reloaded.getState().images.map((i) => [i.key, i.dropped])).toEqual(priors.getState().images.map((i) => [i.key, i.key === key]));
    expect(reloaded.getState().images.every((i) => i.url.startsWith('blob:'))).toBe(true);

    await reloaded.getState().generate();
    expect(reloaded.getState().images.find((i) => i.key === key)?.dropped).toBe(true);
    await reloaded.getState().toggleDropped(key);
    expect((await loadPriorSelection(store, 'dog-1'))?.dropped).toEqual([]);
  });

  it('cancel keeps the images made so far in the selection and says how many', async () => {
    const { store, worker, priors } = setup();
    priors.getState().setField('count', '200');
    const run = priors.getState().generate();
    await worker.reachedPrior(4);
    await vi.waitFor(() => expect(priors.getState().images.length).toBeGreaterThanOrEqual(4));
    expect(priors.getState().running).toMatchObject({ total: 200, backend: testBackend });
    priors.getState().cancel();
    await run;
    const s = priors.getState();
    const made = s.images.length;
    expect(made).toBeGreaterThanOrEqual(4);
    expect(s.outcome).toBe(`Cancelled after ${made} of 200 class images. The ${made} made are kept; Generate again makes the rest and reuses these.`);
    expect((await loadPriorSelection(store, 'dog-1'))?.keys).toHaveLength(made);
    await vi.waitFor(() => expect(worker.cancelled).toEqual(['generatePriors']));
  });

  it('own class photos are prepared, stored as own-<sha256> priors and added; a duplicate is refused', async () => {
    const { store, priors } = setup();
    await priors.getState().generate();
    const photo = new File([Uint8Array.from([7, 1, 2, 3])], 'my-dog.png', { type: 'image/png' });
    await priors.getState().addOwnFiles([photo, new File([new Uint8Array(0)], 'empty.png'), new File([Uint8Array.from([7, 1, 2, 3])], 'again.png')]);
    const own = priors.getState().images.filter((i) => i.source === 'own');
    expect(own).toHaveLength(1);
    expect(own[0]!.key).toMatch(/^own-[0-9a-f]{64}$/);
    const [record] = await getPriors(store, [own[0]!.key]);
    expect(record).toMatchObject({ source: 'own', prompt: 'a photo of dog', width: 64, height: 64 });
    expect((await loadPriorSelection(store, 'dog-1'))?.keys).toContain(own[0]!.key);
    expect(priors.getState().notices.map((n) => n.text)).toEqual([
      'empty.png is empty (0 bytes).',
      'again.png is already among the class images.',
      'Added 1 of your own class photo: my-dog.png.',
    ]);
    // A re-run replaces the generated images only.
    await priors.getState().generate();
    expect(priors.getState().images.at(-1)?.key).toBe(own[0]!.key);
    // With a base model that makes larger images, a class photo is cropped at that model's size.
    await priors.getState().chooseBaseModel(LARGE_MODEL_ID);
    await priors.getState().addOwnFiles([new File([Uint8Array.from([9, 1])], 'big-dog.png', { type: 'image/png' })]);
    const [large] = await getPriors(store, [priors.getState().images.at(-1)!.key]);
    expect(large).toMatchObject({ source: 'own', width: 128, height: 128 });
  });

  it('runs nothing while a field is invalid or training runs, and says why', async () => {
    const { worker, priors } = setup({ busy: 'Training Rex is running (step 4 of 400).' });
    priors.getState().setField('count', '0');
    await priors.getState().generate();
    expect(priors.getState().problems.count).toBe('Number of class images must be from 1 to 1000; 0 is too small.');
    priors.getState().setField('count', '4');
    expect(priors.getState().problems.count).toBeUndefined();
    await priors.getState().generate();
    expect(priors.getState().failure).toEqual({
      reason: 'Training Rex is running (step 4 of 400).',
      fix: 'Class images can be made once it is done, or after you pause or cancel it.',
    });
    expect(worker.priorRequests).toEqual([]);
  });

  it('notices when the subject’s class noun changed since its images were made', async () => {
    const { priors, setSubject } = setup();
    await priors.getState().generate();
    setSubject({ id: 'dog-1', name: 'Rex', classNoun: 'puppy', identifier: 'zoqu', photos: [], createdAt: 0 });
    await priors.getState().load();
    expect(priors.getState()).toMatchObject({ classNoun: 'puppy', staleClass: 'dog' });
  });
});
