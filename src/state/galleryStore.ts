import type { UseStore } from 'idb-keyval';
import { create } from 'zustand';
import { sha256Hex } from '../storage/contentHash';
import { loadGallery, planGalleryChange, type GalleryItem } from '../storage/galleryRecords';
import { createSerializedApply } from '../storage/serializedApply';
import { StorageFullError } from '../storage/studioDb';
import { notice, type Notice } from './notices';

/** A generated image to keep: PNG bytes plus everything stored beside them. */
export type NewGalleryImage = Omit<GalleryItem, 'id' | 'imageSha256' | 'createdAt'> & { png: Uint8Array<ArrayBuffer> };

export interface GalleryState {
  items: GalleryItem[];
  loaded: boolean;
  loadError: string | null;
  notices: Notice[];
  load(): Promise<void>;
  /** Saves images (newest first in the gallery), all or none; returns the saved items, or null after reporting why not. */
  addImages(images: readonly NewGalleryImage[]): Promise<GalleryItem[] | null>;
  remove(id: string): Promise<void>;
  dismissNotice(id: number): void;
}

export type GalleryStore = ReturnType<typeof createGalleryStore>;

/** Generated images: state mirrors IndexedDB, and every change is committed there before it shows. */
export function createGalleryStore(deps: { store: UseStore; now?: () => number }) {
  const now = deps.now ?? Date.now;
  return create<GalleryState>()((set, get) => {
    const report = (n: Notice) => set((s) => ({ notices: [...s.notices, n].slice(-6) }));

    const { apply, inTurn } = createSerializedApply<GalleryItem[]>({
      store: deps.store,
      plan: planGalleryChange,
      read: () => get().items,
      show: (items) => set({ items }),
      reportFailure(error, what) {
        const why =
          error instanceof StorageFullError
            ? `${error.message} Deleting gallery images frees space too.`
            : `Saving failed, so nothing was changed: ${error instanceof Error ? error.message : String(error)}`;
        report(notice('error', `${what} ${why}`));
      },
    });

    return {
      items: [],
      loaded: false,
      loadError: null,
      notices: [],

      async load() {
        await inTurn(async () => {
          try {
            set({ items: await loadGallery(deps.store), loaded: true, loadError: null });
          } catch (error) {
            set({ loaded: true, loadError: `The gallery could not be read: ${error instanceof Error ? error.message : String(error)}` });
          }
        });
      },

      async addImages(images) {
        if (images.length === 0) return [];
        const createdAt = now();
        const newImages = new Map<string, Blob>();
        const added: GalleryItem[] = [];
        for (const { png, ...rest } of images) {
          const imageSha256 = await sha256Hex(png);
          newImages.set(imageSha256, new Blob([png], { type: 'image/png' }));
          added.push({ ...rest, id: crypto.randomUUID(), imageSha256, createdAt });
        }
        const what = images.length === 1 ? 'The new image was not saved to the gallery.' : `The ${images.length} new images were not saved to the gallery.`;
        return (await apply(what, (latest) => [...added, ...latest], newImages)) ? added : null;
      },

      async remove(id) {
        await apply('The image was not deleted.', (latest) => (latest.some((item) => item.id === id) ? latest.filter((item) => item.id !== id) : null));
      },

      dismissNotice(id) {
        set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
      },
    };
  });
}
