import { get, getMany, type UseStore } from 'idb-keyval';
import type { SamplerName } from '../diffusion/schedulerConfig';
import type { GenerationBackend } from '../generation/jobTypes';
import type { Batch } from './studioDb';

/**
 * Key layout of the gallery. Images live under their own prefix rather than the subjects' `blob/`
 * so that neither side's clean-up can delete a blob the other still uses (a generated PNG
 * downloaded and dropped in as a subject photo has the same hash).
 */
export const GALLERY_INDEX_KEY = 'gallery/index';
export const galleryItemKey = (id: string) => `gallery/item/${id}`;
export const galleryImageKey = (sha256: string) => `gallery/image/${sha256}`;

/** Everything needed to render the image again. */
export interface GalleryParams {
  prompt: string;
  negativePrompt: string;
  sampler: SamplerName;
  steps: number;
  guidanceScale: number;
  /** The seed this image was drawn with (never "random"). */
  seed: number;
  width: number;
  height: number;
}

/** One generated image as stored: its PNG by content hash, and how it was made. */
export interface GalleryItem {
  id: string;
  /** SHA-256 of the PNG (which carries the A1111 `parameters` chunk). */
  imageSha256: string;
  params: GalleryParams;
  createdAt: number;
  model: { id: string; untrained: boolean };
  /** What really ran the model. */
  backend: GenerationBackend;
  /** What this image cost: UNet evaluations and GPU time, its share of the job that made it. */
  usage: { unetEvaluations: number; gpuMs: number };
  /** The batch request it answers, for images made by a batch job. */
  customId?: string;
}

/** Item ids, newest first. */
interface GalleryIndex {
  order: string[];
}

/** The stored gallery, newest first; index entries whose record is missing are skipped. */
export async function loadGallery(store: UseStore): Promise<GalleryItem[]> {
  const index = (await get<GalleryIndex>(GALLERY_INDEX_KEY, store)) ?? { order: [] };
  const records = await getMany<GalleryItem>(index.order.map(galleryItemKey), store);
  return records.filter((item): item is GalleryItem => item !== undefined);
}

export async function loadGalleryImage(store: UseStore, sha256: string): Promise<Blob | undefined> {
  return get<Blob>(galleryImageKey(sha256), store);
}

/**
 * The batch that turns the stored gallery `before` into `after`: new and changed records, the index,
 * images not stored yet (from `newImages`, by hash), and deletion of images no item refers to any
 * more. Two items with identical PNGs (same parameters and seed) share one stored image.
 */
export function planGalleryChange(
  before: readonly GalleryItem[],
  after: readonly GalleryItem[],
  newImages: ReadonlyMap<string, Blob>,
): Batch {
  const batch: Batch = { put: [], del: [] };
  const beforeById = new Map(before.map((item) => [item.id, item]));
  const afterIds = new Set(after.map((item) => item.id));
  if (afterIds.size !== after.length) throw new Error('gallery item ids must be unique');

  for (const item of after) if (beforeById.get(item.id) !== item) batch.put.push([galleryItemKey(item.id), item]);
  for (const item of before) if (!afterIds.has(item.id)) batch.del.push(galleryItemKey(item.id));

  const order = after.map((item) => item.id);
  if (order.join('\n') !== before.map((item) => item.id).join('\n')) batch.put.push([GALLERY_INDEX_KEY, { order } satisfies GalleryIndex]);

  const imagesBefore = new Set(before.map((item) => item.imageSha256));
  const imagesAfter = new Set(after.map((item) => item.imageSha256));
  for (const hash of imagesAfter) {
    if (imagesBefore.has(hash)) continue;
    const image = newImages.get(hash);
    if (!image) throw new Error(`gallery image ${hash} is referenced but neither stored nor supplied`);
    batch.put.push([galleryImageKey(hash), image]);
  }
  for (const hash of imagesBefore) if (!imagesAfter.has(hash)) batch.del.push(galleryImageKey(hash));
  return batch;
}
