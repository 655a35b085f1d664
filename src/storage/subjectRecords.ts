import { get, getMany, type UseStore } from 'idb-keyval';
import { blobHashes, type Subject } from '../subjects/subject';
import { planRecordChange, type RecordLayout } from './recordChange';
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

const subjectsLayout: RecordLayout<SubjectsSnapshot, Subject> = {
  items: (snapshot) => snapshot.subjects,
  id: (subject) => subject.id,
  itemKey: subjectKey,
  index: (snapshot): SubjectIndex => ({ order: snapshot.subjects.map((s) => s.id), activeId: snapshot.activeId }),
  indexKey: SUBJECT_INDEX_KEY,
  blobHashes,
  blobKey,
};

/** The batch that turns the stored state `before` into `after`; `newBlobs` maps content hash to bytes. */
export function planSubjectsChange(before: SubjectsSnapshot, after: SubjectsSnapshot, newBlobs: ReadonlyMap<string, Blob>): Batch {
  return planRecordChange(subjectsLayout, before, after, newBlobs);
}
