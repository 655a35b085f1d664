import 'fake-indexeddb/auto';
import { createStore, keys, set, type UseStore } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckpointInfo } from '../dreambooth/jobTypes';
import { presetSettings } from '../dreambooth/trainSettings';
import { JobError } from '../protocol/jobs';
import {
  checkpointPartKey,
  deleteCheckpoints,
  deletePriors,
  deleteSubjectTraining,
  getLatents,
  getPriors,
  hasPriors,
  listCheckpoints,
  loadCheckpoint,
  loadPriorSelection,
  ownPriorKey,
  priorKey,
  putLatents,
  putPrior,
  removeOrphanCheckpointParts,
  saveCheckpoint,
  savePriorSelection,
  storageEstimate,
  SUBJECT_BUSY_MESSAGE,
  trainingPointerKey,
  withSubjectLock,
  type PriorRecord,
  type PriorSelection,
  type StoredCheckpoint,
} from './dreamboothRecords';
import { exhaustQuotaAfter } from './quotaTesting';
import { commit, StorageFullError } from './studioDb';

let store: UseStore;
let dbCounter = 0;
beforeEach(() => {
  store = createStore(`dreambooth-test-${dbCounter++}`, 'records');
});
const storedKeys = async () => (await keys(store)).map(String).sort();

const info = (subjectId: string, step: number): CheckpointInfo => ({
  id: `${subjectId}-step${step}`,
  subjectId,
  runId: 'run1',
  step,
  totalSteps: 100,
  bytes: 10,
  weightBytes: 4,
  createdAt: 1000 + step,
  loss: 0.1,
  settings: presetSettings('quick'),
  identifier: 'zoqu',
  classNoun: 'dog',
  baseModelId: 'builtin',
});
const checkpoint = (subjectId: string, step: number): StoredCheckpoint => ({
  info: info(subjectId, step),
  parts: { state: new Blob([`state ${subjectId} ${step}`]), meta: new Blob([`{"step":${step}}`]) },
});
const partKeys = (subjectId: string, ...steps: number[]) =>
  steps.flatMap((step) => ['meta', 'state'].map((part) => checkpointPartKey(`${subjectId}-step${step}`, part)));

describe('prior keys', () => {
  const recipe = { modelKey: 'builtin@abc', prompt: 'a photo of dog', seed: 7, sampler: 'ddim', steps: 20, guidanceScale: 7.5, width: 64, height: 64 };

  it('are the same for the same recipe, whatever the property order or extra properties', async () => {
    const key = await priorKey(recipe);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const reordered = { height: 64, width: 64, guidanceScale: 7.5, steps: 20, sampler: 'ddim', seed: 7, prompt: 'a photo of dog', modelKey: 'builtin@abc' };
    expect(await priorKey(reordered)).toBe(key);
    expect(await priorKey({ ...recipe, source: 'generated' } as typeof recipe)).toBe(key);
  });

  it('change when any field changes', async () => {
    const key = await priorKey(recipe);
    const changes: Partial<typeof recipe>[] = [
      { modelKey: 'builtin@abd' },
      { prompt: 'a photo of dogs' },
      { seed: 8 },
      { sampler: 'euler_a' },
      { steps: 21 },
      { guidanceScale: 7.6 },
      { width: 128 },
      { height: 128 },
    ];
    const changed = await Promise.all(changes.map((c) => priorKey({ ...recipe, ...c })));
    for (const k of changed) expect(k).not.toBe(key);
    expect(new Set(changed).size).toBe(changes.length);
  });

  it('own photos are keyed by the file hash', async () => {
    expect(await ownPriorKey(new TextEncoder().encode('abc'))).toBe('own-ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('prior records', () => {
  const prior = (key: string, seed: number): PriorRecord => ({
    key,
    png: new Blob([`png ${key}`], { type: 'image/png' }),
    prompt: 'a photo of dog',
    seed,
    modelKey: 'builtin@abc',
    sampler: 'ddim',
    steps: 2,
    guidanceScale: 7.5,
    width: 64,
    height: 64,
    createdAt: 5,
    source: 'generated',
  });

  it('round-trip, report which are stored, and delete', async () => {
    await putPrior(store, prior('k1', 1));
    await putPrior(store, prior('k2', 2));
    const [p1, missing, p2] = await getPriors(store, ['k1', 'nope', 'k2']);
    expect(missing).toBeUndefined();
    expect(p1).toMatchObject({ key: 'k1', seed: 1, source: 'generated' });
    expect(await p2?.png.text()).toBe('png k2');
    expect(await hasPriors(store, ['k2', 'nope', 'k1'])).toEqual([true, false, true]);
    expect(await hasPriors(store, [])).toEqual([]);
    await deletePriors(store, ['k1']);
    expect(await storedKeys()).toEqual(['prior/k2']);
  });

  it('keep each subject’s selection under its own key', async () => {
    const sel: PriorSelection = {
      subjectId: 's1',
      classNoun: 'dog',
      keys: ['k1', 'own-x'],
      dropped: ['k2'],
      settings: { count: 3, seed: 0, sampler: 'ddim', steps: 2, guidanceScale: 7.5, modelId: 'builtin' },
    };
    expect(await loadPriorSelection(store, 's1')).toBeUndefined();
    await savePriorSelection(store, sel);
    expect(await loadPriorSelection(store, 's1')).toEqual(sel);
    expect(await loadPriorSelection(store, 's2')).toBeUndefined();
    expect(await storedKeys()).toEqual(['priors/s1']);
  });
});

describe('checkpoints', () => {
  it('save blobs and one pointer, and load the newest or a named one', async () => {
    expect(await saveCheckpoint(store, checkpoint('s', 10), 3)).toEqual([info('s', 10)]);
    expect(await saveCheckpoint(store, checkpoint('s', 20), 3)).toEqual([info('s', 10), info('s', 20)]);
    expect(await storedKeys()).toEqual([...partKeys('s', 10, 20), trainingPointerKey('s')].sort());
    expect(await listCheckpoints(store, 's')).toEqual([info('s', 10), info('s', 20)]);
    expect(await listCheckpoints(store, 'other')).toEqual([]);

    const newest = await loadCheckpoint(store, 's');
    expect(newest?.info).toEqual(info('s', 20));
    expect(newest?.note).toBeUndefined();
    expect(await newest?.parts.state?.text()).toBe('state s 20');
    expect(Object.keys(newest?.parts ?? {}).sort()).toEqual(['meta', 'state']);
    expect((await loadCheckpoint(store, 's', 's-step10'))?.info.step).toBe(10);
    expect(await loadCheckpoint(store, 's', 'unknown')).toBeUndefined();
    expect(await loadCheckpoint(store, 'other')).toBeUndefined();
  });

  it('keep the last K and delete exactly the parts of the older ones', async () => {
    await set('ckpt/unrelated-elsewhere/state', new Blob(['x']), store); // not this subject's: left alone by keep
    for (const step of [10, 20, 30]) await saveCheckpoint(store, checkpoint('s', step), 2);
    await saveCheckpoint(store, checkpoint('t', 5), 2);
    expect(await saveCheckpoint(store, checkpoint('s', 40), 2)).toEqual([info('s', 30), info('s', 40)]);
    expect(await storedKeys()).toEqual(
      [...partKeys('s', 30, 40), ...partKeys('t', 5), 'ckpt/unrelated-elsewhere/state', trainingPointerKey('s'), trainingPointerKey('t')].sort(),
    );
    expect(await saveCheckpoint(store, checkpoint('s', 50), 1)).toEqual([info('s', 50)]);
    expect((await storedKeys()).filter((k) => k.startsWith('ckpt/s-'))).toEqual(partKeys('s', 50).sort());
  });

  it('refuse to overwrite a listed checkpoint in place', async () => {
    await saveCheckpoint(store, checkpoint('s', 10), 3);
    const again = { ...checkpoint('s', 10), parts: { state: new Blob(['other bytes']) } };
    await expect(saveCheckpoint(store, again, 3)).rejects.toThrow(/already saved/);
    expect(await (await loadCheckpoint(store, 's'))?.parts.state?.text()).toBe('state s 10');
  });

  it('survive a save killed between its blobs and its pointer: the previous one loads and the orphans are removed', async () => {
    await saveCheckpoint(store, checkpoint('s', 10), 3);
    const keysBefore = await storedKeys();
    // tx1 of the next save landed, then the tab was closed: parts without a pointer entry.
    const killed = checkpoint('s', 20);
    await commit(store, { put: Object.entries(killed.parts).map(([part, blob]) => [checkpointPartKey(killed.info.id, part), blob]), del: [] });

    expect(await listCheckpoints(store, 's')).toEqual([info('s', 10)]);
    const loaded = await loadCheckpoint(store, 's');
    expect(loaded?.info.step).toBe(10);
    expect(await loaded?.parts.state?.text()).toBe('state s 10');

    expect(await removeOrphanCheckpointParts(store)).toBe(2);
    expect(await storedKeys()).toEqual(keysBefore);
    expect(await removeOrphanCheckpointParts(store)).toBe(0);
    // And the same id saves normally afterwards.
    expect((await saveCheckpoint(store, checkpoint('s', 20), 3)).map((c) => c.step)).toEqual([10, 20]);
  });

  it('fall back to the previous listed checkpoint when the newest one’s parts are missing or truncated, and say so', async () => {
    for (const step of [10, 20, 30]) await saveCheckpoint(store, checkpoint('s', step), 3);
    await set(checkpointPartKey('s-step30', 'state'), new Blob(['trunc']), store); // shorter than listed
    await commit(store, { put: [], del: [checkpointPartKey('s-step20', 'meta')] });

    const loaded = await loadCheckpoint(store, 's');
    expect(loaded?.info.step).toBe(10);
    expect(await loaded?.parts.state?.text()).toBe('state s 10');
    expect(loaded?.note).toBe(
      'The checkpoint at step 30 could not be read (its data is missing or incomplete — the save was probably interrupted); loaded the one at step 10 instead.',
    );
    expect((await loadCheckpoint(store, 's', 's-step20'))?.info.step).toBe(10);
    await commit(store, { put: [], del: [checkpointPartKey('s-step10', 'state')] });
    expect(await loadCheckpoint(store, 's')).toBeUndefined();
  });

  it('delete some or all of a subject’s checkpoints', async () => {
    for (const step of [10, 20, 30]) await saveCheckpoint(store, checkpoint('s', step), 3);
    await saveCheckpoint(store, checkpoint('t', 5), 3);
    await deleteCheckpoints(store, 's', ['s-step20', 'not-listed']);
    expect((await listCheckpoints(store, 's')).map((c) => c.step)).toEqual([10, 30]);
    expect((await storedKeys()).filter((k) => k.startsWith('ckpt/s-'))).toEqual(partKeys('s', 10, 30).sort());
    await deleteCheckpoints(store, 's');
    expect(await storedKeys()).toEqual([...partKeys('t', 5), trainingPointerKey('t')].sort());
    expect(await removeOrphanCheckpointParts(store)).toBe(0);
  });

  describe('when the quota runs out', () => {
    const realPut = IDBObjectStore.prototype.put;
    afterEach(() => {
      IDBObjectStore.prototype.put = realPut;
    });

    it.each(['throw', 'abort'] as const)('(put: %s) while writing parts: StorageFullError with the message, nothing changes', async (how) => {
      await saveCheckpoint(store, checkpoint('s', 10), 1);
      const keysBefore = await storedKeys();
      const restore = exhaustQuotaAfter(1, how);
      const error = await saveCheckpoint(store, checkpoint('s', 20), 1).catch((e: unknown) => e);
      restore();
      expect(error).toBeInstanceOf(StorageFullError);
      expect((error as Error).message).toMatch(/^Browser storage is full.*Free space by deleting subjects/);
      expect(await storedKeys()).toEqual(keysBefore);
      expect((await loadCheckpoint(store, 's'))?.info.step).toBe(10);
    });

    it.each(['throw', 'abort'] as const)('(put: %s) while writing the pointer: StorageFullError, the last checkpoint is kept, no orphans', async (how) => {
      await saveCheckpoint(store, checkpoint('s', 10), 1);
      const keysBefore = await storedKeys();
      const restore = exhaustQuotaAfter(2, how); // both parts land; the pointer does not
      const error = await saveCheckpoint(store, checkpoint('s', 20), 1).catch((e: unknown) => e);
      restore();
      expect(error).toBeInstanceOf(StorageFullError);
      expect(await storedKeys()).toEqual(keysBefore);
      expect((await loadCheckpoint(store, 's'))?.info.step).toBe(10);
    });

    it('latents and priors say so too', async () => {
      const restore = exhaustQuotaAfter(0, 'abort');
      await expect(putLatents(store, 'img', 'vae', new Float32Array(4))).rejects.toBeInstanceOf(StorageFullError);
      restore();
      expect(await storedKeys()).toEqual([]);
    });
  });
});

describe('latent cache', () => {
  it('round-trips Float32Array latents by image hash and VAE identity', async () => {
    const latents = Float32Array.from({ length: 4 * 16 * 16 }, (_, i) => Math.sin(i) * 1e-3);
    await putLatents(store, 'sha-img', 'vae@1', latents);
    const back = await getLatents(store, 'sha-img', 'vae@1');
    expect(back).toBeInstanceOf(Float32Array);
    expect(back).toEqual(latents);
    expect(await getLatents(store, 'sha-img', 'vae@2')).toBeUndefined();
    expect(await getLatents(store, 'sha-other', 'vae@1')).toBeUndefined();
    expect(await storedKeys()).toEqual(['latents/vae@1/sha-img']);
  });
});

describe('deleting a subject’s training records', () => {
  it('removes its checkpoints and selection, keeps prior images and other subjects', async () => {
    await saveCheckpoint(store, checkpoint('s', 10), 3);
    await saveCheckpoint(store, checkpoint('t', 5), 3);
    const sel = (subjectId: string): PriorSelection => ({
      subjectId,
      classNoun: 'dog',
      keys: ['k1'],
      dropped: [],
      settings: { count: 1, seed: 0, sampler: 'ddim', steps: 2, guidanceScale: 7.5, modelId: 'builtin' },
    });
    await savePriorSelection(store, sel('s'));
    await savePriorSelection(store, sel('t'));
    await set('prior/k1', { key: 'k1' }, store);
    await deleteSubjectTraining(store, 's');
    expect(await storedKeys()).toEqual([...partKeys('t', 5), 'prior/k1', 'priors/t', trainingPointerKey('t')].sort());
  });
});

describe('storage estimate', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('is null without navigator.storage and the numbers with it', async () => {
    vi.stubGlobal('navigator', undefined);
    expect(await storageEstimate()).toBeNull();
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage: 5, quota: 100 }) } });
    expect(await storageEstimate()).toEqual({ usage: 5, quota: 100 });
    vi.stubGlobal('navigator', { storage: { estimate: async () => Promise.reject(new Error('no')) } });
    expect(await storageEstimate()).toBeNull();
  });
});

describe('subject lock', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  /** A minimal Web Locks stand-in: exclusive names, granted in turn; a `signal` aborts a wait (the API's contract). */
  function fakeLocks() {
    const held = new Map<string, Promise<unknown>>();
    return {
      held,
      async request<T>(name: string, options: { signal: AbortSignal }, callback: () => Promise<T>): Promise<T> {
        while (held.has(name)) {
          const current = held.get(name)!;
          await new Promise<void>((resolve, reject) => {
            void current.finally(() => resolve());
            options.signal.addEventListener('abort', () => reject(options.signal.reason as Error), { once: true });
          });
        }
        const run = callback();
        held.set(
          name,
          run.catch(() => undefined),
        );
        try {
          return await run;
        } finally {
          held.delete(name);
        }
      },
    };
  }

  it('runs without a lock where navigator.locks is missing', async () => {
    expect(await withSubjectLock('s', async () => 42)).toBe(42);
  });

  it('refuses a second trainer on the same subject after waiting, allows another subject, and releases when done', async () => {
    const locks = fakeLocks();
    vi.stubGlobal('navigator', { locks });
    let release!: () => void;
    const first = withSubjectLock('s', () => new Promise<string>((resolve) => (release = () => resolve('first done'))));
    await Promise.resolve();
    expect(locks.held.has('train:s')).toBe(true);

    const second = await withSubjectLock('s', async () => 'ran', 50).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(JobError);
    expect(second).toMatchObject({ code: 'failed', message: SUBJECT_BUSY_MESSAGE });
    expect(await withSubjectLock('t', async () => 'other subject')).toBe('other subject');

    // A holder that lets go within the wait (a reloaded page's dying worker) is waited for.
    const waiting = withSubjectLock('s', async () => 'after the first', 5_000);
    setTimeout(release, 20);
    expect(await first).toBe('first done');
    expect(await waiting).toBe('after the first');
    expect(await withSubjectLock('s', async () => 'after')).toBe('after');
  });
});
