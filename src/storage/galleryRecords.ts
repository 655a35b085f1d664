import { get, getMany, type UseStore } from 'idb-keyval';
import type { SamplerName } from '../diffusion/schedulerConfig';
import type { GenerationBackend } from '../generation/jobTypes';
import { planRecordChange, type RecordLayout } from './recordChange';
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
  /**
   * The model that made it: `id` is the generate request's modelId ('builtin', or `checkpoint:<subject>:<checkpoint>`);
   * `label` ("Rex · step 400") is stored for checkpoints so the gallery names them after they are deleted. Records
   * saved before checkpoints existed have no label and are base-model images.
   */
  model: { id: string; untrained: boolean; label?: string };
  /** What really ran the model. */
  backend: GenerationBackend;
  /** What this image cost: UNet evaluations and model time (wall time of the model runs), its share of the job that made it. */
  usage: { unetEvaluations: number; modelMs: number };
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
  const records = await getMany<GalleryItem | LegacyGalleryItem>(index.order.map(galleryItemKey), store);
  return records.filter((item) => item !== undefined).map(upgradeItem);
}

/** Items saved before usage said `modelMs` (it was `gpuMs`, also on the CPU) and the backend said why it ran. */
type LegacyGalleryItem = Omit<GalleryItem, 'usage' | 'backend'> & {
  usage: { unetEvaluations: number; modelMs?: number; gpuMs?: number };
  backend: Omit<GalleryItem['backend'], 'why'> & { why?: string; fallbackReason?: string };
};

function upgradeItem(item: GalleryItem | LegacyGalleryItem): GalleryItem {
  const { modelMs, gpuMs, ...usage } = item.usage as LegacyGalleryItem['usage'];
  const { why, fallbackReason, ...backend } = item.backend as LegacyGalleryItem['backend'];
  return {
    ...item,
    usage: { ...usage, modelMs: modelMs ?? gpuMs ?? 0 },
    backend: { ...backend, why: why ?? fallbackReason ?? '' },
  };
}

export async function loadGalleryImage(store: UseStore, sha256: string): Promise<Blob | undefined> {
  return get<Blob>(galleryImageKey(sha256), store);
}

const galleryLayout: RecordLayout<readonly GalleryItem[], GalleryItem> = {
  items: (gallery) => gallery,
  id: (item) => item.id,
  itemKey: galleryItemKey,
  index: (gallery): GalleryIndex => ({ order: gallery.map((item) => item.id) }),
  indexKey: GALLERY_INDEX_KEY,
  blobHashes: (item) => [item.imageSha256],
  blobKey: galleryImageKey,
};

/**
 * The batch that turns the stored gallery `before` into `after`, taking images not stored yet from
 * `newImages` (by hash). Two items with identical PNGs (same parameters and seed) share one stored image.
 */
export function planGalleryChange(before: readonly GalleryItem[], after: readonly GalleryItem[], newImages: ReadonlyMap<string, Blob>): Batch {
  return planRecordChange(galleryLayout, before, after, newImages);
}
