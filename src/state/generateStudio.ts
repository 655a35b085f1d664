import { studioWorker } from '../worker/studioWorker';
import { createBatchStore } from './batchStore';
import { createGalleryStore } from './galleryStore';
import { createGenerateStore } from './generateStore';
import { studioStore } from './studio';

/** The Generate step's stores, wired to the one worker and the one IndexedDB store. */
export const useGallery = createGalleryStore({ store: studioStore });
export const useGenerate = createGenerateStore({ worker: studioWorker(), gallery: useGallery });
export const useBatch = createBatchStore({ generate: useGenerate });
