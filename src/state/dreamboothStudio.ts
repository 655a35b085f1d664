import { loadPriorSelection } from '../storage/dreamboothRecords';
import { checkTrainForm } from './trainForm';
import { presetSettings, DEFAULT_PRESET } from '../dreambooth/trainSettings';
import { studioWorker } from '../worker/studioWorker';
import { otherActivity, registerActivity } from './activity';
import { createCheckpointExportStore } from './checkpointExportStore';
import { MODEL_ID } from './generateStore';
import { createPriorsStore } from './priorsStore';
import { BUILT_IN_MODEL_RESOLUTION, studioStore, useBackend, useSubjects } from './studio';
import { createTrainStore, isActive } from './trainStore';

/** The Class priors and Train steps' stores, wired to the one worker, the one IndexedDB store and the subjects. */
const activeSubject = () => {
  const { subjects, activeId } = useSubjects.getState();
  return subjects.find((s) => s.id === activeId);
};
const subjectName = (id: string) => useSubjects.getState().subjects.find((s) => s.id === id)?.name ?? 'a deleted subject';

export const useTrain = createTrainStore({
  store: studioStore,
  worker: studioWorker(),
  activeSubject,
  async priorSetup(subjectId) {
    const selection = await loadPriorSelection(studioStore, subjectId);
    const dropped = new Set(selection?.dropped ?? []);
    return { priorKeys: selection?.keys.filter((key) => !dropped.has(key)) ?? [], baseModelId: selection?.settings.modelId ?? MODEL_ID };
  },
  backendSetting: () => useBackend.getState().setting,
  busy: () => otherActivity('training'),
  storage: globalThis.localStorage,
});

export const usePriors = createPriorsStore({
  store: studioStore,
  worker: studioWorker(),
  activeSubject,
  backendSetting: () => useBackend.getState().setting,
  // Class images are made as the chosen training preset says (count, sampler), unless the person changes them.
  defaults() {
    const checked = checkTrainForm(useTrain.getState().form, presetSettings(DEFAULT_PRESET));
    const s = 'settings' in checked ? checked.settings : presetSettings(DEFAULT_PRESET);
    return { count: Math.max(1, s.classImages), seed: 0, sampler: s.sampler, steps: s.samplingSteps, guidanceScale: s.guidanceScale };
  },
  busy: () => otherActivity('priors'),
  resolution: BUILT_IN_MODEL_RESOLUTION,
});

registerActivity('training', () => {
  const run = useTrain.getState().run;
  if (!isActive(run)) return null;
  const at = run.step > 0 ? ` (step ${run.step} of ${run.totalSteps})` : '';
  return `Training ${subjectName(run.subjectId)} is running${at}.`;
});
registerActivity('priors', () => {
  const running = usePriors.getState().running;
  return running ? `Class images for ${subjectName(running.subjectId)} are being made (${running.done} of ${running.total}).` : null;
});

// Another active subject (or its class noun changed): show its class images and checkpoints.
useSubjects.subscribe((now, before) => {
  const subject = now.subjects.find((s) => s.id === now.activeId);
  const was = before.subjects.find((s) => s.id === before.activeId);
  if (subject?.id === was?.id && subject?.classNoun === was?.classNoun) return;
  void usePriors.getState().load();
  void useTrain.getState().refreshCheckpoints();
});

export const useCheckpointExport = createCheckpointExportStore({ worker: studioWorker() });
