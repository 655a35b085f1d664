import { get, getMany, type UseStore } from 'idb-keyval';
import { blobHashes, type Subject } from '../subjects/subject';
import type { Batch } from './studioDb';

/** Key layout: subjects and blobs live side by side; blobs are stored once per content hash. */
export const SUBJECT_INDEX_KEY = 'subjects/index';
export const subjectKey = (id: string) => `subject/${id}`;
export const blobKey = (sha256: string) => `blob/${sha256}`;

/** Which subjects exist, in display order, and which one is being worked on. */
export interface SubjectIndex {
  order: string[];
  activeId: string | null;
}

export interface SubjectsSnapshot {
  subjects: Subject[];
  activeId: string | null;
}

export async function loadSubjects(store: UseStore): Promise<SubjectsSnapshot> {
  const index = (await get<SubjectIndex>(SUBJECT_INDEX_KEY, store)) ?? { order: [], activeId: null };
  const records = await getMany<Subject>(index.order.map(subjectKey), store);
  const subjects = records.filter((s): s is Subject => s !== undefined);
  const activeId = subjects.some((s) => s.id === index.activeId) ? index.activeId : (subjects[0]?.id ?? null);
  return { subjects, activeId };
}

export async function loadBlob(store: UseStore, sha256: string): Promise<Blob | undefined> {
  return get<Blob>(blobKey(sha256), store);
}

const indexOf = (snapshot: SubjectsSnapshot): SubjectIndex => ({
  order: snapshot.subjects.map((s) => s.id),
  activeId: snapshot.activeId,
});

/**
 * The batch that turns the stored state `before` into `after`: changed subjects, the index, new blobs,
 * and deletion of blobs no subject refers to any more. `newBlobs` maps content hash to bytes.
 */
export function planChange(before: SubjectsSnapshot, after: SubjectsSnapshot, newBlobs: ReadonlyMap<string, Blob>): Batch {
  const batch: Batch = { put: [], del: [] };
  const beforeById = new Map(before.subjects.map((s) => [s.id, s]));
  const afterIds = new Set(after.subjects.map((s) => s.id));

  for (const subject of after.subjects) {
    if (beforeById.get(subject.id) !== subject) batch.put.push([subjectKey(subject.id), subject]);
  }
  for (const subject of before.subjects) if (!afterIds.has(subject.id)) batch.del.push(subjectKey(subject.id));

  const beforeIndex = indexOf(before);
  const afterIndex = indexOf(after);
  if (JSON.stringify(beforeIndex) !== JSON.stringify(afterIndex)) batch.put.push([SUBJECT_INDEX_KEY, afterIndex]);

  const referencedBefore = new Set(before.subjects.flatMap(blobHashes));
  const referencedAfter = new Set(after.subjects.flatMap(blobHashes));
  for (const hash of referencedAfter) {
    if (referencedBefore.has(hash)) continue;
    const blob = newBlobs.get(hash);
    if (!blob) throw new Error(`blob ${hash} is referenced but neither stored nor supplied`);
    batch.put.push([blobKey(hash), blob]);
  }
  for (const hash of referencedBefore) if (!referencedAfter.has(hash)) batch.del.push(blobKey(hash));
  return batch;
}
