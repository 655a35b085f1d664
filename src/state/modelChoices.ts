import type { UseStore } from 'idb-keyval';
import { create } from 'zustand';
import { checkpointModelId, type CheckpointInfo } from '../dreambooth/jobTypes';
import { listCheckpoints } from '../storage/dreamboothRecords';
import type { Subject } from '../subjects/subject';
import { BASE_MODEL, type ModelChoice } from './generateStore';

/** A model the Generate step can render with: the base model, or one checkpoint of one subject. */
export interface ModelOption extends ModelChoice {
  checkpoint?: CheckpointInfo;
  subjectName?: string;
}

export interface ModelChoicesState {
  options: ModelOption[];
  loading: boolean;
  error: string | null;
  /** Lists every subject's checkpoints (newest first within a subject). */
  refresh(): Promise<void>;
}

export type ModelChoicesStore = ReturnType<typeof createModelChoicesStore>;

export const checkpointLabel = (subjectName: string, checkpoint: Pick<CheckpointInfo, 'step'>) => `${subjectName} · step ${checkpoint.step}`;

/** The instance prompt a checkpoint was trained on: "a photo of <identifier> <classNoun>". */
export const checkpointPrompt = (checkpoint: Pick<CheckpointInfo, 'identifier' | 'classNoun'>) => `a photo of ${checkpoint.identifier} ${checkpoint.classNoun}`;

/** The Generate step's model picker: the base model and every checkpoint of every subject, read from IndexedDB. */
export function createModelChoicesStore(deps: { store: UseStore; subjects(): readonly Subject[] }) {
  let loads = 0;
  return create<ModelChoicesState>()((set) => ({
    options: [BASE_MODEL],
    loading: false,
    error: null,
    async refresh() {
      const load = ++loads;
      set({ loading: true });
      try {
        const subjects = deps.subjects();
        const lists = await Promise.all(subjects.map((subject) => listCheckpoints(deps.store, subject.id)));
        const options: ModelOption[] = [BASE_MODEL];
        subjects.forEach((subject, i) => {
          for (const checkpoint of [...lists[i]!].reverse()) {
            options.push({
              modelId: checkpointModelId(subject.id, checkpoint.id),
              label: checkpointLabel(subject.name, checkpoint),
              checkpoint,
              subjectName: subject.name,
            });
          }
        });
        if (load === loads) set({ options, loading: false, error: null });
      } catch (error) {
        if (load === loads) set({ loading: false, error: `The checkpoints could not be read: ${error instanceof Error ? error.message : String(error)}` });
      }
    },
  }));
}
