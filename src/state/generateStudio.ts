import { studioWorker } from '../worker/studioWorker';
import { otherActivity, registerActivity } from './activity';
import { createBatchStore } from './batchStore';
import { createGalleryStore } from './galleryStore';
import { createGenerateStore } from './generateStore';
import { createModelChoicesStore } from './modelChoices';
import { createRecontextStore } from './recontextStore';
import { studioStore, useBackend, useSubjects } from './studio';

/** The Generate step's stores, wired to the one worker and the one IndexedDB store. */
export const useGallery = createGalleryStore({ store: studioStore });
export const useGenerate = createGenerateStore({
  worker: studioWorker(),
  gallery: useGallery,
  backendSetting: () => useBackend.getState().setting,
  busy: () => otherActivity('generating'),
});
// A new backend setting applies from the next run: the model is prepared again where it will now run.
useBackend.subscribe((now, before) => {
  if (now.setting !== before.setting) void useGenerate.getState().switchBackend();
});
export const useBatch = createBatchStore({ generate: useGenerate });
export const useModelChoices = createModelChoicesStore({ store: studioStore, subjects: () => useSubjects.getState().subjects, worker: studioWorker() });
export const useRecontext = createRecontextStore({ generate: useGenerate });

registerActivity('generating', () => {
  const running = useGenerate.getState().running;
  if (useBatch.getState().running) return 'A batch job is running on the Generate step.';
  return running ? `Generating ${running.label} on the Generate step.` : null;
});
