import 'fake-indexeddb/auto';
import { createStore, entries, set, type UseStore } from 'idb-keyval';
import { beforeEach, describe, expect, it } from 'vitest';
import { commit } from './studioDb';
import { GALLERY_INDEX_KEY, galleryImageKey, galleryItemKey, loadGallery, loadGalleryImage, planGalleryChange, type GalleryItem } from './galleryRecords';

let store: UseStore;
let dbCounter = 0;
beforeEach(() => {
  store = createStore(`gallery-test-${dbCounter++}`, 'records');
});

const item = (id: string, imageSha256: string, seed = 1): GalleryItem => ({
  id,
  imageSha256,
  params: { prompt: `prompt ${id}`, negativePrompt: '', sampler: 'ddim', steps: 4, guidanceScale: 7.5, seed, width: 64, height: 64 },
  createdAt: 1000 + seed,
  model: { id: 'builtin', untrained: true },
  backend: { ep: 'webgpu', kind: 'software-gpu', adapter: 'google swiftshader', requested: 'webgpu', why: 'you chose GPU' },
  usage: { unetEvaluations: 8, modelMs: 12.5 },
});
const images = (...hashes: string[]) => new Map(hashes.map((h) => [h, new Blob([`png ${h}`], { type: 'image/png' })]));

async function save(before: GalleryItem[], after: GalleryItem[], newImages = new Map<string, Blob>()) {
  await commit(store, planGalleryChange(before, after, newImages));
  return after;
}
const storedKeys = async () => (await entries(store)).map(([k]) => String(k)).sort();

describe('gallery storage', () => {
  it('restores items in their order with their images', async () => {
    const saved = await save([], [item('b', 'h2', 2), item('a', 'h1', 1)], images('h1', 'h2'));
    expect(await loadGallery(store)).toEqual(saved);
    const image = await loadGalleryImage(store, 'h2');
    expect(image?.type).toBe('image/png');
    expect(await image?.text()).toBe('png h2');
  });

  it('reads items saved before usage said modelMs and the backend said why', async () => {
    const current = item('a', 'h1');
    const { why: _why, ...oldBackend } = current.backend;
    const legacy = { ...current, usage: { unetEvaluations: 8, gpuMs: 12.5 }, backend: { ...oldBackend, fallbackReason: 'WebGPU unavailable' } };
    await set(GALLERY_INDEX_KEY, { order: ['a'] }, store);
    await set(galleryItemKey('a'), legacy, store);
    const [loaded] = await loadGallery(store);
    expect(loaded?.usage).toEqual({ unetEvaluations: 8, modelMs: 12.5 });
    expect(loaded?.backend).toEqual({ ...oldBackend, why: 'WebGPU unavailable' });
  });

  it('adds new items in front without rewriting the ones already stored', async () => {
    const first = await save([], [item('a', 'h1')], images('h1'));
    const batch = planGalleryChange(first, [item('b', 'h2'), ...first], images('h2'));
    expect(batch.put.map(([key]) => key).sort()).toEqual([GALLERY_INDEX_KEY, galleryImageKey('h2'), galleryItemKey('b')].sort());
    expect(batch.del).toEqual([]);
  });

  it('stores an image shared by two items once and deletes it with the last item that refers to it', async () => {
    const both = await save([], [item('b', 'same'), item('a', 'same')], images('same'));
    expect((await storedKeys()).filter((k) => k.startsWith('gallery/image/'))).toEqual([galleryImageKey('same')]);

    const onlyA = await save(both, [both[1]!]);
    expect(await storedKeys()).toContain(galleryImageKey('same'));
    expect(await storedKeys()).not.toContain(galleryItemKey('b'));

    await save(onlyA, []);
    expect(await storedKeys()).toEqual([GALLERY_INDEX_KEY]);
    expect(await loadGallery(store)).toEqual([]);
  });

  it('leaves subject records and blobs alone', async () => {
    await set('blob/h1', new Blob(['subject photo']), store);
    await set('subject/x', { id: 'x' }, store);
    const saved = await save([], [item('a', 'h1')], images('h1'));
    await save(saved, []);
    expect(await storedKeys()).toEqual(['blob/h1', GALLERY_INDEX_KEY, 'subject/x']);
  });

  it('refuses an image that is neither stored nor supplied, and duplicate ids', () => {
    expect(() => planGalleryChange([], [item('a', 'missing')], new Map())).toThrow(/missing/);
    expect(() => planGalleryChange([], [item('a', 'h1'), item('a', 'h1')], images('h1'))).toThrow(/unique/);
  });

  it('skips index entries whose record is gone', async () => {
    await save([], [item('a', 'h1')], images('h1'));
    await set(GALLERY_INDEX_KEY, { order: ['ghost', 'a'] }, store);
    expect((await loadGallery(store)).map((i) => i.id)).toEqual(['a']);
  });
});
