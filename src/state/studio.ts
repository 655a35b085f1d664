import { openStudioStore } from '../storage/studioDb';
import { SAMPLE_SUBJECT } from '../subjects/sampleSubject';
import { studioWorker } from '../worker/studioWorker';
import { createBackendStore } from './backendStore';
import { createSubjectsStore } from './subjectsStore';

/** Side of the square images the built-in model is trained on; a model with another size passes its own. */
export const BUILT_IN_MODEL_RESOLUTION = 64;

/** The app's stores, wired to the one worker and the one IndexedDB store. */
export const studioStore = openStudioStore();

export const useBackend = createBackendStore(studioWorker(), globalThis.localStorage);
studioWorker().onWorkerEnded(() => void useBackend.getState().workerReplaced());

export const useSubjects = createSubjectsStore({
  store: studioStore,
  worker: studioWorker(),
  resolution: BUILT_IN_MODEL_RESOLUTION,
  thumbnailSize: 192,
  sampleUrl: `${import.meta.env.BASE_URL}${SAMPLE_SUBJECT.folder}/`,
});
