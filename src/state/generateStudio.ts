import { studioWorker } from '../worker/studioWorker';
import { createBatchStore } from './batchStore';
import { createGalleryStore } from './galleryStore';
import { createGenerateStore } from './generateStore';
import { studioStore, useBackend } from './studio';

/** The Generate step's stores, wired to the one worker and the one IndexedDB store. */
export const useGallery = createGalleryStore({ store: studioStore });
export const useGenerate = createGenerateStore({ worker: studioWorker(), gallery: useGallery, backendSetting: () => useBackend.getState().setting });
// A new backend setting applies from the next run: the model is prepared again where it will now run.
useBackend.subscribe((now, before) => {
  if (now.setting !== before.setting) void useGenerate.getState().switchBackend();
});
export const useBatch = createBatchStore({ generate: useGenerate });
