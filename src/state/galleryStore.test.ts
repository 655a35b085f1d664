import 'fake-indexeddb/auto';
import { createStore, entries, type UseStore } from 'idb-keyval';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { galleryImageKey, loadGallery, loadGalleryImage } from '../storage/galleryRecords';
import { createGalleryStore, type NewGalleryImage } from './galleryStore';

let store: UseStore;
let dbCounter = 0;
beforeEach(() => {
  store = createStore(`gallery-store-test-${dbCounter++}`, 'records');
});

const image = (seed: number, bytes = [0x89, 0x50, 0x4e, 0x47, seed]): NewGalleryImage => ({
  png: Uint8Array.from(bytes),
  params: { prompt: 'a cat', negativePrompt: '', sampler: 'euler_a', steps: 2, guidanceScale: 7, seed, width: 64, height: 64 },
  model: { id: 'builtin', untrained: true },
  backend: { ep: 'wasm', kind: 'cpu', threads: 2, requested: 'wasm', why: 'you chose CPU' },
  usage: { unetEvaluations: 4, modelMs: 10 },
});
const storedKeys = async () => (await entries(store)).map(([k]) => String(k)).sort();

describe('gallery store', () => {
  it('saves images newest first under the SHA-256 of their bytes, and a fresh store loads them back', async () => {
    const gallery = createGalleryStore({ store, now: () => 1234 });
    await gallery.getState().addImages([image(1)]);
    const added = await gallery.getState().addImages([image(2), image(3)]);
    expect(added?.map((i) => i.params.seed)).toEqual([2, 3]);
    expect(gallery.getState().items.map((i) => i.params.seed)).toEqual([2, 3, 1]);

    const expectedHash = createHash('sha256').update(image(2).png).digest('hex');
    expect(added?.[0]?.imageSha256).toBe(expectedHash);
    const blob = await loadGalleryImage(store, expectedHash);
    expect(new Uint8Array(await blob!.arrayBuffer())).toEqual(image(2).png);

    const reloaded = createGalleryStore({ store });
    await reloaded.getState().load();
    expect(reloaded.getState().items).toEqual(gallery.getState().items);
    expect(reloaded.getState().items[0]).toMatchObject({ createdAt: 1234, model: { id: 'builtin', untrained: true }, usage: { unetEvaluations: 4 } });
  });

  it('deletes an item and its image', async () => {
    const gallery = createGalleryStore({ store });
    const [kept, gone] = (await gallery.getState().addImages([image(1), image(2)]))!;
    await gallery.getState().remove(gone!.id);
    expect(gallery.getState().items).toEqual([kept]);
    expect((await storedKeys()).filter((k) => k.startsWith('gallery/image/'))).toEqual([galleryImageKey(kept!.imageSha256)]);
  });

  it('adds and deletes at the same time without losing either change or an image the gallery still shows', async () => {
    const gallery = createGalleryStore({ store });
    const [first] = (await gallery.getState().addImages([image(1)]))!;
    await Promise.all([gallery.getState().addImages([image(2)]), gallery.getState().remove(first!.id)]);

    const shown = gallery.getState().items;
    expect(shown.map((i) => i.params.seed)).toEqual([2]);
    expect(await loadGallery(store)).toEqual(shown);
    for (const item of shown) expect(await loadGalleryImage(store, item.imageSha256)).toBeDefined();
    expect((await storedKeys()).filter((k) => k.startsWith('gallery/image/'))).toEqual([galleryImageKey(shown[0]!.imageSha256)]);
  });

  describe('when storage is full', () => {
    const realPut = IDBObjectStore.prototype.put;
    afterEach(() => {
      IDBObjectStore.prototype.put = realPut;
    });

    it('saves none of the images, keeps the shown gallery, and says what to do', async () => {
      const gallery = createGalleryStore({ store });
      await gallery.getState().addImages([image(1)]);
      const keysBefore = await storedKeys();
      const itemsBefore = gallery.getState().items;
      let puts = 0;
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof realPut>) {
        if (++puts > 2) throw new DOMException('quota exceeded', 'QuotaExceededError');
        return realPut.apply(this, args);
      };
      expect(await gallery.getState().addImages([image(2), image(3)])).toBeNull();
      IDBObjectStore.prototype.put = realPut;

      expect(gallery.getState().items).toBe(itemsBefore);
      expect(await storedKeys()).toEqual(keysBefore);
      const [message] = gallery.getState().notices;
      expect(message?.tone).toBe('error');
      expect(message?.text).toMatch(/^The 2 new images were not saved to the gallery\. Browser storage is full.*Deleting gallery images frees space too\.$/);
    });
  });
});
