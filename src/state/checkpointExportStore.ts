import { create } from 'zustand';
import type { CheckpointInfo, ExportedFile, ExportFormat } from '../dreambooth/jobTypes';
import type { StudioClient } from '../worker/studioWorker';

/** One export being built in the worker. */
export interface ExportInFlight {
  checkpointId: string;
  format: ExportFormat;
}

export interface CheckpointExportState {
  running: ExportInFlight | null;
  /** Why the last export failed (the worker names the key or file that did not fit); cleared by the next one. */
  error: string | null;
  /** Builds the file in the worker; resolves to it for the page to download, or null when it failed (see `error`). */
  exportCheckpoint(checkpoint: Pick<CheckpointInfo, 'id' | 'subjectId'>, format: ExportFormat): Promise<ExportedFile | null>;
}

/**
 * Which export formats fit a checkpoint: a LoRA needs adapters (and a text encoder left alone but for the identifier);
 * a run that changed whole weights exports the model. Every run exports as a training job.
 */
export function exportFormats(checkpoint: Pick<CheckpointInfo, 'settings'>): ExportFormat[] {
  const { unet, textEncoder } = checkpoint.settings;
  const weights: ExportFormat[] = unet === 'lora' && textEncoder !== 'full' ? ['lora-peft', 'lora-kohya'] : ['diffusers-folder'];
  return [...weights, 'training-job'];
}

export function createCheckpointExportStore(deps: { worker: StudioClient }) {
  return create<CheckpointExportState>()((set, get) => ({
    running: null,
    error: null,
    async exportCheckpoint(checkpoint, format) {
      if (get().running) return null;
      set({ running: { checkpointId: checkpoint.id, format }, error: null });
      try {
        return await deps.worker.request('exportCheckpoint', { subjectId: checkpoint.subjectId, checkpointId: checkpoint.id, format });
      } catch (error) {
        set({ error: `The export failed: ${error instanceof Error ? error.message : String(error)}` });
        return null;
      } finally {
        set({ running: null });
      }
    },
  }));
}
