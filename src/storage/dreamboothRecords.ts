/**
 * DreamBooth records in the studio's IndexedDB store: class-prior images, each subject's class-image selection,
 * training checkpoints, cached VAE latents, and the lock that keeps two tabs from training one subject.
 * Runs on the page and in the worker alike (same database, `openStudioStore()`).
 *
 * Key layout:
 *   prior/<key>                  PriorRecord (content-addressed: the key is a hash of how the image was made)
 *   priors/<subjectId>           PriorSelection
 *   ckpt/<checkpointId>/<part>   Blob (opaque bytes from the trainer)
 *   training/<subjectId>         TrainingPointer (the subject's checkpoints, oldest → newest, with their parts)
 *   latents/<vaeKey>/<imageSha>  Float32Array
 *
 * A checkpoint is written blobs first (one transaction), then the pointer (a second one that checks the blobs are
 * there): a write killed in between leaves only orphan blobs, never a pointer to missing data, and the previous
 * checkpoints are never overwritten in place.
 */
import { get, getMany, promisifyRequest, type UseStore } from 'idb-keyval';
import type { CheckpointInfo } from '../dreambooth/jobTypes';
import { JobError } from '../protocol/jobs';
import { sha256Hex } from './contentHash';
import { commit, explainStorageError } from './studioDb';

export const priorRecordKey = (key: string) => `prior/${key}`;
export const priorSelectionKey = (subjectId: string) => `priors/${subjectId}`;
export const checkpointPartKey = (checkpointId: string, part: string) => `ckpt/${checkpointId}/${part}`;
export const trainingPointerKey = (subjectId: string) => `training/${subjectId}`;
export const latentsKey = (imageSha: string, vaeKey: string) => `latents/${vaeKey}/${imageSha}`;
export const runLogKey = (subjectId: string) => `trainlog/${subjectId}`;

// ---------------------------------------------------------------------------------------------------------------
// Prior images

/** One class image: a generated one (keyed by how it was made) or the person's own photo (`own-<sha256>`). */
export interface PriorRecord {
  key: string;
  png: Blob;
  prompt: string;
  seed: number;
  modelKey: string;
  sampler: string;
  steps: number;
  guidanceScale: number;
  width: number;
  height: number;
  createdAt: number;
  source: 'generated' | 'own';
}

export interface PriorRecipe {
  modelKey: string;
  prompt: string;
  seed: number;
  sampler: string;
  steps: number;
  guidanceScale: number;
  width: number;
  height: number;
}

/**
 * The content address of a generated class image: hex SHA-256 of a canonical JSON of everything that decides its
 * pixels (keys in a fixed order, extra properties ignored). Same recipe, same key — on any subject, in any tab.
 */
export function priorKey(o: PriorRecipe): Promise<string> {
  const canonical = JSON.stringify({
    guidanceScale: o.guidanceScale,
    height: o.height,
    modelKey: o.modelKey,
    prompt: o.prompt,
    sampler: o.sampler,
    seed: o.seed,
    steps: o.steps,
    width: o.width,
  });
  return sha256Hex(new TextEncoder().encode(canonical));
}

/** The key of one of the person's own class photos: `own-<sha256 of the file>`. */
export async function ownPriorKey(fileBytes: BufferSource): Promise<string> {
  return `own-${await sha256Hex(fileBytes)}`;
}

export function putPrior(store: UseStore, record: PriorRecord): Promise<void> {
  return commit(store, { put: [[priorRecordKey(record.key), record]], del: [] });
}

export function getPriors(store: UseStore, keys: readonly string[]): Promise<(PriorRecord | undefined)[]> {
  return getMany<PriorRecord>(keys.map(priorRecordKey), store);
}

/** Which of `keys` are stored, without reading their images. */
export function hasPriors(store: UseStore, keys: readonly string[]): Promise<boolean[]> {
  return store('readonly', (objectStore) =>
    Promise.all(keys.map(async (key) => (await promisifyRequest(objectStore.getKey(priorRecordKey(key)))) !== undefined)),
  );
}

export function deletePriors(store: UseStore, keys: readonly string[]): Promise<void> {
  return commit(store, { put: [], del: keys.map(priorRecordKey) });
}

// ---------------------------------------------------------------------------------------------------------------
// A subject's class-image selection

/** The class images a subject trains with: generated keys minus dropped ones, plus own photos (in `keys`). */
export interface PriorSelection {
  subjectId: string;
  classNoun: string;
  keys: string[];
  dropped: string[];
  settings: { count: number; seed: number; sampler: string; steps: number; guidanceScale: number; modelId: string };
}

export async function loadPriorSelection(store: UseStore, subjectId: string): Promise<PriorSelection | undefined> {
  const [selection] = await getMany<PriorSelection>([priorSelectionKey(subjectId)], store);
  return selection;
}

export function savePriorSelection(store: UseStore, sel: PriorSelection): Promise<void> {
  return commit(store, { put: [[priorSelectionKey(sel.subjectId), sel]], del: [] });
}

// ---------------------------------------------------------------------------------------------------------------
// Checkpoints

export interface StoredCheckpoint {
  info: CheckpointInfo;
  /** Opaque bytes from the trainer by part name (e.g. 'state' = a safetensors file). */
  parts: Record<string, Blob>;
  /** Set when the checkpoint asked for could not be read and an earlier one was loaded instead: says which and why. */
  note?: string;
}

/** One listed checkpoint: its info and the parts it was saved with (name and size, to tell a truncated one). */
export interface ListedCheckpoint {
  info: CheckpointInfo;
  parts: { name: string; bytes: number }[];
}

/** `training/<subjectId>`: the subject's checkpoints, oldest → newest. */
export interface TrainingPointer {
  checkpoints: ListedCheckpoint[];
}

async function readPointer(objectStore: IDBObjectStore, subjectId: string): Promise<TrainingPointer> {
  const pointer = await promisifyRequest<TrainingPointer | undefined>(objectStore.get(trainingPointerKey(subjectId)));
  return pointer ?? { checkpoints: [] };
}

/**
 * Runs `body` in one readwrite transaction and resolves once it has committed. Whatever `body` throws aborts it;
 * a full quota rejects with StorageFullError (as `commit` does).
 */
async function readWrite<T>(store: UseStore, body: (objectStore: IDBObjectStore) => Promise<T>): Promise<T> {
  try {
    return await store('readwrite', async (objectStore) => {
      const tx = objectStore.transaction;
      let result: T;
      try {
        result = await body(objectStore);
      } catch (error) {
        const cause = tx.error ?? error; // a quota abort shows as a failed request; the transaction knows why
        try {
          tx.abort();
        } catch {
          // already aborted
        }
        throw cause;
      }
      await promisifyRequest(tx);
      return result;
    });
  } catch (error) {
    throw await explainStorageError(error);
  }
}

class MissingPartsError extends Error {}

/**
 * Saves a checkpoint: tx1 puts every part at `ckpt/<id>/<part>`; tx2 checks they are all there, appends the
 * checkpoint to the subject's pointer and deletes the parts of the oldest ones beyond `keep`. Returns the kept list
 * (oldest → newest). The id must be new: a listed checkpoint is never overwritten in place.
 * @throws StorageFullError when the quota runs out (nothing listed changes; the new parts are removed again).
 */
export async function saveCheckpoint(store: UseStore, c: StoredCheckpoint, keep: number): Promise<CheckpointInfo[]> {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be a whole number ≥ 1, not ${keep}`);
  const { info } = c;
  const names = Object.keys(c.parts);
  if (names.length === 0) throw new Error('a checkpoint needs at least one part');
  const listed = await listCheckpoints(store, info.subjectId);
  if (listed.some((l) => l.id === info.id)) throw new Error(`checkpoint ${info.id} is already saved; a new checkpoint needs a new id`);
  const entry: ListedCheckpoint = { info, parts: names.map((name) => ({ name, bytes: c.parts[name]!.size })) };

  // Parts can vanish between the two transactions only if an orphan sweep runs in that moment (another tab); write again once.
  for (let attempt = 0; ; attempt++) {
    await commit(store, { put: names.map((name) => [checkpointPartKey(info.id, name), c.parts[name]]), del: [] });
    try {
      return await readWrite(store, async (objectStore) => {
        const present = await Promise.all(names.map((n) => promisifyRequest(objectStore.getKey(checkpointPartKey(info.id, n)))));
        if (present.some((k) => k === undefined)) throw new MissingPartsError(`checkpoint ${info.id} lost parts before it was listed`);
        const pointer = await readPointer(objectStore, info.subjectId);
        const all = [...pointer.checkpoints.filter((l) => l.info.id !== info.id), entry];
        const dropped = all.slice(0, Math.max(0, all.length - keep));
        const kept = all.slice(dropped.length);
        objectStore.put({ checkpoints: kept } satisfies TrainingPointer, trainingPointerKey(info.subjectId));
        for (const old of dropped) for (const part of old.parts) objectStore.delete(checkpointPartKey(old.info.id, part.name));
        return kept.map((l) => l.info);
      });
    } catch (error) {
      if (error instanceof MissingPartsError && attempt === 0) continue;
      // Not listed: the parts just written are orphans. Deleting needs no quota; a failure here leaves them to the sweep.
      await commit(store, { put: [], del: names.map((name) => checkpointPartKey(info.id, name)) }).catch(() => undefined);
      throw error;
    }
  }
}

/** The subject's checkpoints, oldest → newest (listed ones; whether their data is intact is found on load). */
export async function listCheckpoints(store: UseStore, subjectId: string): Promise<CheckpointInfo[]> {
  return (await loadPointer(store, subjectId)).checkpoints.map((l) => l.info);
}

async function loadPointer(store: UseStore, subjectId: string): Promise<TrainingPointer> {
  return store('readonly', (objectStore) => readPointer(objectStore, subjectId));
}

/**
 * Loads a checkpoint with its parts: the newest, or `checkpointId`. When that one's parts are missing or truncated
 * (an interrupted or damaged write), loads the newest earlier listed one that is intact and says so in `note`.
 * Undefined when no such checkpoint is listed or none from there back is intact.
 */
export async function loadCheckpoint(store: UseStore, subjectId: string, checkpointId?: string): Promise<StoredCheckpoint | undefined> {
  const { checkpoints } = await loadPointer(store, subjectId);
  const start = checkpointId === undefined ? checkpoints.length - 1 : checkpoints.findIndex((l) => l.info.id === checkpointId);
  if (start < 0) return undefined;
  for (let i = start; i >= 0; i--) {
    const listed = checkpoints[i]!;
    const blobs = await getMany<Blob>(
      listed.parts.map((p) => checkpointPartKey(listed.info.id, p.name)),
      store,
    );
    const intact = blobs.every((blob, j) => blob instanceof Blob && blob.size === listed.parts[j]!.bytes);
    if (!intact) continue;
    const parts = Object.fromEntries(listed.parts.map((p, j) => [p.name, blobs[j]!]));
    if (i === start) return { info: listed.info, parts };
    const wanted = checkpoints[start]!.info;
    return {
      info: listed.info,
      parts,
      note:
        `The checkpoint at step ${wanted.step} could not be read (its data is missing or incomplete — the save was probably interrupted); ` +
        `loaded the one at step ${listed.info.step} instead.`,
    };
  }
  return undefined;
}

/** Deletes the subject's checkpoints `checkpointIds` (all when omitted): their parts and their pointer entries, in one transaction. */
export async function deleteCheckpoints(store: UseStore, subjectId: string, checkpointIds?: readonly string[]): Promise<void> {
  await readWrite(store, async (objectStore) => {
    const pointer = await readPointer(objectStore, subjectId);
    const doomed = checkpointIds === undefined ? null : new Set(checkpointIds);
    const [gone, kept] = partition(pointer.checkpoints, (l) => doomed === null || doomed.has(l.info.id));
    for (const l of gone) for (const part of l.parts) objectStore.delete(checkpointPartKey(l.info.id, part.name));
    if (kept.length === 0) objectStore.delete(trainingPointerKey(subjectId));
    else if (gone.length > 0) objectStore.put({ checkpoints: kept } satisfies TrainingPointer, trainingPointerKey(subjectId));
  });
}

/**
 * Deletes checkpoint parts no subject's pointer lists (a save killed between its two transactions) and returns
 * how many. Call it when no checkpoint save is in flight in this tab (e.g. before a training run starts); a save
 * in another tab that loses its parts to the sweep notices and writes them again.
 */
export async function removeOrphanCheckpointParts(store: UseStore): Promise<number> {
  return readWrite(store, async (objectStore) => {
    const [partKeys, pointers] = await Promise.all([
      promisifyRequest(objectStore.getAllKeys(prefixRange('ckpt/'))),
      promisifyRequest<TrainingPointer[]>(objectStore.getAll(prefixRange('training/'))),
    ]);
    const listed = new Set(pointers.flatMap((p) => p.checkpoints.flatMap((l) => l.parts.map((part) => checkpointPartKey(l.info.id, part.name)))));
    const orphans = partKeys.filter((key) => !listed.has(String(key)));
    for (const key of orphans) objectStore.delete(key);
    return orphans.length;
  });
}

/** What the browser says this site stores and may store, in bytes; null where it cannot say. */
export async function storageEstimate(): Promise<{ usage: number; quota: number } | null> {
  try {
    const estimate = await globalThis.navigator?.storage?.estimate?.();
    if (estimate?.usage === undefined || estimate.quota === undefined) return null;
    return { usage: estimate.usage, quota: estimate.quota };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Latent cache

/** The cached VAE latents of a training image for one VAE (by the image's SHA-256 and the VAE's identity). */
export async function getLatents(store: UseStore, imageSha: string, vaeKey: string): Promise<Float32Array | undefined> {
  const [value] = await getMany<Float32Array | ArrayBuffer>([latentsKey(imageSha, vaeKey)], store);
  if (value === undefined) return undefined;
  return value instanceof Float32Array ? value : new Float32Array(value);
}

export function putLatents(store: UseStore, imageSha: string, vaeKey: string, latents: Float32Array): Promise<void> {
  return commit(store, { put: [[latentsKey(imageSha, vaeKey), latents]], del: [] });
}

// ---------------------------------------------------------------------------------------------------------------
// What a run showed

/**
 * `trainlog/<subjectId>`: a run's loss curve and preview rows up to its newest checkpoint, written by the worker with
 * each checkpoint, so the Train step shows them again after a reload (and a resumed run goes on from them).
 */
export interface RunLog {
  subjectId: string;
  runId: string;
  /** The checkpoint step this log reaches. */
  step: number;
  totalSteps: number;
  loss: { step: number; loss: number }[];
  /** The loss on the run's fixed batch (TrainProgress 'fit'); absent in logs saved before it was measured. */
  fit?: { step: number; loss: number }[];
  validations: { step: number; images: { prompt: string; seed: number; png: Blob }[] }[];
}

export function saveRunLog(store: UseStore, log: RunLog): Promise<void> {
  return commit(store, { put: [[runLogKey(log.subjectId), log]], del: [] });
}

export function loadRunLog(store: UseStore, subjectId: string): Promise<RunLog | undefined> {
  return get<RunLog>(runLogKey(subjectId), store);
}

// ---------------------------------------------------------------------------------------------------------------
// Subjects

/**
 * Deletes what training left for a subject — its checkpoints (pointer and parts), run log and class-image selection —
 * in one transaction. Prior images stay: they are content-addressed and another subject may use them.
 */
export async function deleteSubjectTraining(store: UseStore, subjectId: string): Promise<void> {
  await readWrite(store, async (objectStore) => {
    const pointer = await readPointer(objectStore, subjectId);
    for (const l of pointer.checkpoints) for (const part of l.parts) objectStore.delete(checkpointPartKey(l.info.id, part.name));
    objectStore.delete(trainingPointerKey(subjectId));
    objectStore.delete(priorSelectionKey(subjectId));
    objectStore.delete(runLogKey(subjectId));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// One trainer per subject

export const SUBJECT_BUSY_MESSAGE = 'This subject is already training in another tab or window of the studio. Pause it there first, or close that tab.';

/**
 * Runs `fn` holding the Web Lock `train:<subjectId>`, so two tabs cannot train into the same subject at once. A held
 * lock is waited for up to `waitMs`: after a reload the old page's worker gives the lock back only when the step it is
 * in finishes, which is not another tab training.
 * @throws JobError 'failed' when another tab (or worker) still holds it after that. Where the Web Locks API is missing
 * (old browsers, Node) `fn` runs without a lock.
 */
export async function withSubjectLock<T>(subjectId: string, fn: () => Promise<T>, waitMs = 20_000): Promise<T> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return fn();
  const signal = AbortSignal.timeout(waitMs);
  try {
    return await locks.request(`train:${subjectId}`, { signal }, () => fn());
  } catch (error) {
    if (signal.aborted && error === signal.reason) throw new JobError('failed', SUBJECT_BUSY_MESSAGE);
    throw error;
  }
}

const prefixRange = (prefix: string) => IDBKeyRange.bound(prefix, `${prefix}\uffff`);

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}
