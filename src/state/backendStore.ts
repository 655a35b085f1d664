import { create } from 'zustand';
import type { BackendReport } from '../protocol/studioJobs';
import type { StudioClient } from '../worker/studioWorker';

export interface BackendState {
  report: BackendReport | null;
  error: string | null;
  probe(): Promise<void>;
}

/** What the worker found to compute on; asked once at start. */
export function createBackendStore(worker: StudioClient) {
  return create<BackendState>()((set) => ({
    report: null,
    error: null,
    async probe() {
      try {
        set({ report: await worker.request('probeBackend', undefined), error: null });
      } catch (error) {
        set({ error: `The worker did not answer: ${error instanceof Error ? error.message : String(error)}` });
      }
    },
  }));
}
