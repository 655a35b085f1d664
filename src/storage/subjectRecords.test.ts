import 'fake-indexeddb/auto';
import { createStore, entries, type UseStore } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Subject, SubjectPhoto } from '../subjects/subject';
import { exhaustQuotaAfter } from './quotaTesting';
import { commit, StorageFullError } from './studioDb';
import { blobKey, loadBlob, loadSubjects, planSubjectsChange, SUBJECT_INDEX_KEY, subjectKey, type SubjectsSnapshot } from './subjectRecords';

let store: UseStore;
let dbCounter = 0;
beforeEach(() => {
  store = createStore(`studio-test-${dbCounter++}`, 'records');
});

const photo = (name: string): SubjectPhoto => ({
  sha256: `orig-${name}`,
  fileName: `${name}.jpg`,
  mime: 'image/jpeg',
  width: 100,
  height: 80,
  cropSha256: `crop-${name}`,
  cropResolution: 64,
  thumbnailSha256: `thumb-${name}`,
});
const blobsFor = (...names: string[]) => new Map(names.flatMap((n) => [`orig-${n}`, `crop-${n}`, `thumb-${n}`].map((h) => [h, new Blob([h])] as const)));
const subject = (id: string, photos: SubjectPhoto[] = []): Subject => ({
  id,
  name: id,
  classNoun: 'dog',
  identifier: `id${id}`,
  photos,
  createdAt: 1,
});
const empty: SubjectsSnapshot = { subjects: [], activeId: null };

async function save(before: SubjectsSnapshot, after: SubjectsSnapshot, blobs = new Map<string, Blob>()) {
  await commit(store, planSubjectsChange(before, after, blobs));
  return after;
}
const storedKeys = async () => (await entries(store)).map(([k]) => String(k)).sort();

describe('subject storage', () => {
  it('restores subjects, their order, the active one and their blobs', async () => {
    const a = subject('a', [photo('p1')]);
    const b = subject('b');
    await save(empty, { subjects: [a, b], activeId: 'b' }, blobsFor('p1'));
    expect(await loadSubjects(store)).toEqual({ subjects: [a, b], activeId: 'b' });
    expect(await (await loadBlob(store, 'crop-p1'))?.text()).toBe('crop-p1');
  });

  it('stores a blob shared by two subjects once and deletes it only when the last reference goes', async () => {
    const s1 = await save(empty, { subjects: [subject('a', [photo('p1')])], activeId: 'a' }, blobsFor('p1'));
    const s2 = await save(s1, { subjects: [...s1.subjects, subject('b', [photo('p1')])], activeId: 'b' });
    expect((await storedKeys()).filter((k) => k.startsWith('blob/'))).toHaveLength(3);

    const s3 = await save(s2, { subjects: [s2.subjects[1]!], activeId: 'b' }); // delete subject a
    expect(await storedKeys()).toContain(blobKey('orig-p1'));
    expect(await storedKeys()).not.toContain(subjectKey('a'));

    await save(s3, { subjects: [subject('b', [])], activeId: 'b' }); // remove the photo from b
    expect(await storedKeys()).toEqual([SUBJECT_INDEX_KEY, subjectKey('b')].sort());
  });

  it('refuses to reference a blob that is neither stored nor supplied', () => {
    expect(() => planSubjectsChange(empty, { subjects: [subject('a', [photo('p1')])], activeId: 'a' }, new Map())).toThrow(/orig-p1/);
  });

  it('falls back to the first subject when the stored active one is gone', async () => {
    await save(empty, { subjects: [subject('a'), subject('b')], activeId: 'zzz' });
    expect((await loadSubjects(store)).activeId).toBe('a');
  });
});

describe('commit', () => {
  const realPut = IDBObjectStore.prototype.put;
  afterEach(() => {
    IDBObjectStore.prototype.put = realPut;
  });

  it.each(['throw', 'abort'] as const)('writes nothing when the quota runs out part-way (put: %s), and says how to free space', async (how) => {
    const before = await save(empty, { subjects: [subject('a')], activeId: 'a' });
    const keysBefore = await storedKeys();
    const restore = exhaustQuotaAfter(2, how);
    const after = { subjects: [subject('a', [photo('p1')])], activeId: 'a' };
    const error = await commit(store, planSubjectsChange(before, after, blobsFor('p1'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFullError);
    expect((error as Error).message).toMatch(/^Browser storage is full.*Free space by deleting subjects/);
    restore();
    expect(await storedKeys()).toEqual(keysBefore);
    expect(await loadSubjects(store)).toEqual(before);
  });

  it('passes other storage errors through unchanged', async () => {
    IDBObjectStore.prototype.put = () => {
      throw new DOMException('cannot clone', 'DataCloneError');
    };
    await expect(commit(store, { put: [['k', 1]], del: [] })).rejects.toMatchObject({ name: 'DataCloneError' });
  });
});
