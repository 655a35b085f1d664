import type { UseStore } from 'idb-keyval';
import { create } from 'zustand';
import { checkpointModelId, importedModelId, type CheckpointInfo } from '../dreambooth/jobTypes';
import { listCheckpoints } from '../storage/dreamboothRecords';
import { deleteImportedModel, listImportedModels, type ImportedModelInfo } from '../storage/importedModels';
import type { Subject } from '../subjects/subject';
import type { StudioClient } from '../worker/studioWorker';
import { BASE_MODEL, type ModelChoice } from './generateStore';

/** A model the Generate step can render with: the base model, one checkpoint of one subject, or an imported model. */
export interface ModelOption extends ModelChoice {
  checkpoint?: CheckpointInfo;
  subjectName?: string;
  imported?: ImportedModelInfo;
  /** The words the model was trained to answer to, where known: its instance prompt and the recontextualization grid use them. */
  trigger?: Pick<CheckpointInfo, 'identifier' | 'classNoun'>;
}

export interface ModelChoicesState {
  options: ModelOption[];
  loading: boolean;
  error: string | null;
  /** An import in flight: the names of the files being checked. */
  importing: string | null;
  /** Why the last import was refused (the worker names the file, key and reason); cleared by the next one. */
  importError: string | null;
  /** Lists every subject's checkpoints (newest first within a subject), then the imported models (newest first). */
  refresh(): Promise<void>;
  /** Checks the files in the worker and stores them as a model; resolves to its option, or null when refused. */
  importFiles(files: readonly File[]): Promise<ModelOption | null>;
  deleteImported(id: string): Promise<void>;
}

export type ModelChoicesStore = ReturnType<typeof createModelChoicesStore>;

export const checkpointLabel = (subjectName: string, checkpoint: Pick<CheckpointInfo, 'step'>) => `${subjectName} · step ${checkpoint.step}`;
export const importedLabel = (model: Pick<ImportedModelInfo, 'name'>) => `${model.name} (imported)`;

/** The instance prompt a checkpoint was trained on: "a photo of <identifier> <classNoun>". */
export const checkpointPrompt = (checkpoint: Pick<CheckpointInfo, 'identifier' | 'classNoun'>) => `a photo of ${checkpoint.identifier} ${checkpoint.classNoun}`;

/** Files the import job can read: LoRA weights, zips of a LoRA or a model folder, and a folder's own files. */
export const isModelFile = (file: Pick<File, 'name' | 'webkitRelativePath'>) => Boolean(file.webkitRelativePath) || /\.(safetensors|zip)$/i.test(file.name);

function importedOption(model: ImportedModelInfo): ModelOption {
  const trigger = model.identifier && model.classNoun ? { identifier: model.identifier, classNoun: model.classNoun } : undefined;
  return { modelId: importedModelId(model.id), label: importedLabel(model), imported: model, ...(trigger ? { trigger } : {}) };
}

/** The Generate step's model picker: the base model, every checkpoint of every subject and the imported models, read from IndexedDB. */
export function createModelChoicesStore(deps: { store: UseStore; subjects(): readonly Subject[]; worker: StudioClient }) {
  let loads = 0;
  return create<ModelChoicesState>()((set, get) => ({
    options: [BASE_MODEL],
    loading: false,
    error: null,
    importing: null,
    importError: null,
    async refresh() {
      const load = ++loads;
      set({ loading: true });
      try {
        const subjects = deps.subjects();
        const [lists, imported] = await Promise.all([
          Promise.all(subjects.map((subject) => listCheckpoints(deps.store, subject.id))),
          listImportedModels(deps.store),
        ]);
        const options: ModelOption[] = [BASE_MODEL];
        subjects.forEach((subject, i) => {
          for (const checkpoint of [...lists[i]!].reverse()) {
            options.push({
              modelId: checkpointModelId(subject.id, checkpoint.id),
              label: checkpointLabel(subject.name, checkpoint),
              checkpoint,
              subjectName: subject.name,
              trigger: checkpoint,
            });
          }
        });
        options.push(...imported.map(importedOption));
        if (load === loads) set({ options, loading: false, error: null });
      } catch (error) {
        if (load === loads) set({ loading: false, error: `The models could not be read: ${message(error)}` });
      }
    },
    async importFiles(files) {
      if (files.length === 0) return null;
      if (get().importing !== null) {
        set({ importError: `Not imported: ${files[0]!.name} arrived while ${get().importing} is still being checked; add it again when that is done.` });
        return null;
      }
      set({ importing: files.map((f) => f.name).join(', '), importError: null });
      try {
        const payload = await Promise.all(files.map(async (f) => ({ path: f.webkitRelativePath || f.name, bytes: await f.arrayBuffer() })));
        const model = await deps.worker.request('importModel', { files: payload }, { transfer: payload.map((f) => f.bytes) });
        await get().refresh();
        return importedOption(model);
      } catch (error) {
        set({ importError: `Not imported: ${message(error)}` });
        return null;
      } finally {
        set({ importing: null });
      }
    },
    async deleteImported(id) {
      try {
        await deleteImportedModel(deps.store, id);
      } catch (error) {
        set({ error: `The imported model could not be deleted: ${message(error)}` });
      }
      await get().refresh();
    },
  }));
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
