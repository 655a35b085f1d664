import 'fake-indexeddb/auto';
import { createStore, entries, type UseStore } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exhaustQuotaAfter } from './quotaTesting';
import { planRecordChange, type RecordLayout } from './recordChange';
import { createSerializedApply } from './serializedApply';

interface Note {
  id: string;
  blob: string;
}
const layout: RecordLayout<Note[], Note> = {
  items: (notes) => notes,
  id: (note) => note.id,
  itemKey: (id) => `note/${id}`,
  index: (notes) => notes.map((n) => n.id),
  indexKey: 'notes',
  blobHashes: (note) => [note.blob],
  blobKey: (hash) => `blob/${hash}`,
};
const blobs = (...hashes: string[]) => new Map(hashes.map((h) => [h, new Blob([h])]));

let store: UseStore;
let dbCounter = 0;
let shown: Note[];
let failures: string[];
beforeEach(() => {
  store = createStore(`serialized-apply-test-${dbCounter++}`, 'records');
  shown = [];
  failures = [];
});
const makeApply = () =>
  createSerializedApply<Note[]>({
    store,
    plan: (before, after, newBlobs) => planRecordChange(layout, before, after, newBlobs),
    read: () => shown,
    show: (after) => (shown = after),
    reportFailure: (error, what) => failures.push(`${what}: ${error instanceof Error ? error.name : String(error)}`),
  });
const storedKeys = async () => (await entries(store)).map(([k]) => String(k)).sort();

describe('serialized apply', () => {
  it('evaluates each update against the state the previous change left, in call order', async () => {
    const { apply } = makeApply();
    const seen: string[][] = [];
    const add = (note: Note) => (latest: Note[]) => {
      seen.push(latest.map((n) => n.id));
      return [...latest, note];
    };
    await Promise.all([
      apply('a', add({ id: 'a', blob: 'x' }), blobs('x')),
      apply('b', add({ id: 'b', blob: 'y' }), blobs('y')),
      apply('drop a', (latest) => latest.filter((n) => n.id !== 'a')),
    ]);
    expect(seen).toEqual([[], ['a']]);
    expect(shown.map((n) => n.id)).toEqual(['b']);
    expect(await storedKeys()).toEqual(['blob/y', 'note/b', 'notes']);
  });

  it('changes nothing for an update that declines', async () => {
    const { apply } = makeApply();
    expect(await apply('nothing', () => null)).toBeNull();
    expect(await storedKeys()).toEqual([]);
    expect(failures).toEqual([]);
  });

  describe('when a save fails', () => {
    const realPut = IDBObjectStore.prototype.put;
    afterEach(() => {
      IDBObjectStore.prototype.put = realPut;
    });

    it.each(['throw', 'abort'] as const)(
      '(quota: put %s) reports it, leaves storage and the shown state as they were, and still runs the next change',
      async (how) => {
        const { apply } = makeApply();
        await apply('first', (latest) => [...latest, { id: 'a', blob: 'x' }], blobs('x'));
        const keysBefore = await storedKeys();
        const shownBefore = shown;
        const restore = exhaustQuotaAfter(1, how);
        const failing = apply('too big', (latest) => [...latest, { id: 'b', blob: 'y' }], blobs('y'));
        const missingBlob = apply('no blob', (latest) => [...latest, { id: 'c', blob: 'z' }]);
        expect(await failing).toBeNull();
        expect(await missingBlob).toBeNull();
        restore();

        expect(failures).toEqual(['too big: StorageFullError', 'no blob: Error']);
        expect(shown).toBe(shownBefore);
        expect(await storedKeys()).toEqual(keysBefore);

        await apply('after', (latest) => latest.filter((n) => n.id !== 'a'));
        expect(shown).toEqual([]);
        expect(await storedKeys()).toEqual(['notes']);
      },
    );
  });
});
