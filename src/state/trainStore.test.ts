import 'fake-indexeddb/auto';
import { createStore } from 'idb-keyval';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { presetSettings } from '../dreambooth/trainSettings';
import { JobError } from '../protocol/jobs';
import { listCheckpoints } from '../storage/dreamboothRecords';
import type { Subject } from '../subjects/subject';
import { fakeDreamboothWorker, testBackend, type FakeWorker } from './dreamboothTesting';
import { createTrainStore, TRAIN_FORM_KEY } from './trainStore';

const subject: Subject = { id: 'cat-1', name: 'Cat', classNoun: 'cat', identifier: 'zoqu', photos: [], createdAt: 0 };

const workers: FakeWorker[] = [];
afterEach(() => workers.splice(0).forEach((w) => w.close()));

const memoryStorage = () => {
  const map = new Map<string, string>();
  return { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v) };
};

let dbCounter = 0;
function setup(options: { priorKeys?: string[]; baseModelId?: string; busy?: string | null; storage?: ReturnType<typeof memoryStorage> } = {}) {
  const store = createStore(`train-test-${dbCounter++}`, 'records');
  const worker = fakeDreamboothWorker(store);
  workers.push(worker);
  const train = createTrainStore({
    store,
    worker: worker.client,
    activeSubject: () => subject,
    priorSetup: async () => ({ priorKeys: options.priorKeys ?? ['p1', 'p2'], baseModelId: options.baseModelId ?? 'builtin' }),
    backendSetting: () => 'auto',
    busy: () => options.busy ?? null,
    storage: options.storage ?? memoryStorage(),
    estimate: async () => ({ usage: 5e6, quota: 1e9 }),
  });
  // Small, fast runs: 12 steps, a checkpoint every 5, validation every 4.
  const small = { steps: '12', checkpointEvery: '5', validationEvery: '4', keepCheckpoints: '3' } as const;
  for (const [k, v] of Object.entries(small)) train.getState().setField(k as keyof typeof small, v);
  return { store, worker, train };
}

describe('train store', () => {
  it('shows each progress event: stage and backend, steps with raw and smoothed loss, validation rows, checkpoints', async () => {
    const { store, worker, train } = setup();
    await train.getState().start();
    const s = train.getState();
    expect(worker.trainRequests).toEqual([
      {
        subjectId: 'cat-1',
        settings: { ...presetSettings('object'), steps: 12, checkpointEvery: 5, validationEvery: 4, keepCheckpoints: 3 },
        priorKeys: ['p1', 'p2'],
        resume: false,
        modelId: 'builtin',
        backend: 'auto',
      },
    ]);
    expect(s.run).toMatchObject({ status: 'finished', step: 12, totalSteps: 12, backend: testBackend, msPerStep: 250, lastCheckpointStep: 12 });
    expect(s.run!.loss.steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(s.run!.loss.raw[0]).toBe(1);
    expect(s.run!.loss.smoothed[0]).toBeCloseTo(1, 12); // bias-corrected: the first point is the first loss
    expect(s.run!.loss.smoothed[11]).toBeGreaterThan(s.run!.loss.raw[11]!); // lags behind a falling loss
    expect(s.run!.validations.map((v) => [v.step, v.images.map((i) => i.prompt)])).toEqual([
      [4, ['a photo of zoqu cat', 'a photo of cat']],
      [8, ['a photo of zoqu cat', 'a photo of cat']],
      [12, ['a photo of zoqu cat', 'a photo of cat']],
    ]);
    expect(s.result).toMatchObject({ status: 'finished', backend: testBackend });
    expect(s.outcome).toBe('Finished: 12 steps. The checkpoint at step 12 is ready: “Generate with it” under Checkpoints, or pick it on the Generate step.');
    // Newest first, as many as kept; the same as stored.
    expect(s.checkpoints.map((c) => c.step)).toEqual([12, 10, 5]);
    expect((await listCheckpoints(store, 'cat-1')).map((c) => c.step)).toEqual([5, 10, 12]);
    expect(s.storage).toEqual({ usage: 5e6, quota: 1e9 });
  });

  it('pause saves a checkpoint and stops; resume continues from it with resume: true', async () => {
    const { worker, train } = setup();
    const run = train.getState().start();
    await worker.reachedStep(3);
    await train.getState().pause();
    expect(['pausing', 'paused']).toContain(train.getState().run?.status);
    await run;
    const paused = train.getState();
    expect(paused.run?.status).toBe('paused');
    const at = paused.run!.step;
    expect(at).toBeGreaterThanOrEqual(3);
    expect(at).toBeLessThan(12);
    expect(paused.outcome).toBe(`Paused at step ${at} of 12; a checkpoint was saved. Resume continues from here, also after a reload.`);
    expect(paused.checkpoints[0]?.step).toBe(at);

    await train.getState().start(true);
    expect(worker.trainRequests[1]?.resume).toBe(true);
    const resumed = train.getState().run!;
    expect(resumed).toMatchObject({ status: 'finished', resumed: true, step: 12 });
    // The chart goes on from the checkpoint: the first run's steps up to it, then the resumed run's.
    expect(resumed.loss.steps).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('cancel stops at once, says which checkpoint is kept, and the worker sees the cancel', async () => {
    const { worker, train } = setup();
    const run = train.getState().start();
    await worker.reachedStep(7);
    train.getState().cancel();
    expect(train.getState().run?.status).toBe('cancelling');
    await run;
    const s = train.getState();
    expect(s.run?.status).toBe('cancelled');
    expect(s.outcome).toMatch(/^Cancelled at step \d+ of 12\. The checkpoint at step 5 is kept; Resume continues from it\.$/);
    await vi.waitFor(() => expect(worker.cancelled).toEqual(['train']));
    expect(s.failure).toBeNull();
  });

  it('a full disk fails the run with the fix (delete checkpoints, then resume)', async () => {
    const { worker, train } = setup();
    worker.failNextTrain(new JobError('failed', 'Browser storage is full (this site uses 990 MB of 1000 MB allowed). Free space …'));
    await train.getState().start();
    expect(train.getState().run?.status).toBe('failed');
    expect(train.getState().failure).toMatchObject({
      reason: 'Browser storage is full, so the checkpoint could not be saved.',
      fix: expect.stringMatching(/^Delete checkpoints you no longer need/),
    });
  });

  it('shows the contract’s message beside each bad field as it is typed, and Start runs nothing then', async () => {
    const { worker, train } = setup();
    train.getState().setField('loraRank', '500');
    train.getState().setField('learningRate', 'fast');
    expect(train.getState().problems).toEqual({ loraRank: '/loraRank must be ≤ 128', learningRate: '/learningRate must be a number, not “fast”' });
    expect(train.getState().presetId).toBeNull();
    await train.getState().start();
    expect(worker.trainRequests).toEqual([]);
    expect(train.getState().refused).toBe('Fix the settings marked under Advanced settings first.');
    train.getState().setField('loraRank', '8');
    train.getState().setField('learningRate', '2e-4');
    expect(train.getState().problems).toEqual({});
    train.getState().choosePreset('pet');
    expect(train.getState()).toMatchObject({ presetId: 'pet', form: { steps: '600', textEncoder: 'identifier' }, problems: {} });
  });

  it('trains the base model the subject’s Class priors step chose, with or without class images', async () => {
    const imported = setup({ baseModelId: 'imported:m1' });
    await imported.train.getState().start();
    expect(imported.worker.trainRequests[0]).toMatchObject({ modelId: 'imported:m1', priorKeys: ['p1', 'p2'] });
    const noPriors = setup({ baseModelId: 'imported:m2' });
    noPriors.train.getState().setField('priorLossWeight', '0');
    noPriors.train.getState().setField('classImages', '0');
    await noPriors.train.getState().start();
    expect(noPriors.worker.trainRequests[0]).toMatchObject({ modelId: 'imported:m2', priorKeys: [] });
  });

  it('refuses to start without class images, or while something else runs, saying why', async () => {
    const none = setup({ priorKeys: [] });
    await none.train.getState().start();
    expect(none.train.getState().refused).toMatch(/^There are no class images for this subject yet\. Make them on step 2/);
    none.train.getState().setField('priorLossWeight', '0');
    none.train.getState().setField('classImages', '0');
    await none.train.getState().start();
    expect(none.worker.trainRequests).toHaveLength(1);
    expect(none.worker.trainRequests[0]?.priorKeys).toEqual([]);

    const busy = setup({ busy: 'Class images are being made (4 of 16).' });
    await busy.train.getState().start();
    expect(busy.worker.trainRequests).toEqual([]);
    expect(busy.train.getState().refused).toBe('Class images are being made (4 of 16). Training starts once it is done (or cancel it).');
  });

  it('remembers the settings across a reload', () => {
    const storage = memoryStorage();
    const { train } = setup({ storage });
    train.getState().choosePreset('quick');
    train.getState().setField('seed', '7');
    expect(JSON.parse(storage.getItem(TRAIN_FORM_KEY)!)).toMatchObject({ seed: '7', steps: '100' });
    const again = setup({ storage }).train.getState();
    expect(again.form).toMatchObject({ seed: '7' });
  });

  it('deletes a checkpoint, but not while that subject trains', async () => {
    const { store, worker, train } = setup();
    await train.getState().start();
    await train.getState().deleteCheckpoint(train.getState().checkpoints[1]!.id);
    expect(train.getState().checkpoints.map((c) => c.step)).toEqual([12, 5]);
    expect((await listCheckpoints(store, 'cat-1')).map((c) => c.step)).toEqual([5, 12]);

    const run = train.getState().start();
    await worker.reachedStep(2);
    await train.getState().deleteCheckpoint(train.getState().checkpoints[0]!.id);
    expect(train.getState().checkpointError).toBe('Checkpoints cannot be deleted while this subject trains. Pause or cancel first.');
    train.getState().cancel();
    await run;
  });
});
