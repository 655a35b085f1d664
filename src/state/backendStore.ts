import { create } from 'zustand';
import type { BackendPreference } from '../generation/jobTypes';
import type { BackendReport } from '../protocol/studioJobs';
import { chooseBackend, type BackendChoice } from '../generation/backendChoice';
import type { StudioClient } from '../worker/studioWorker';

/** Where the backend setting is remembered (per browser profile, so per device). */
export const BACKEND_SETTING_KEY = 'dreambooth-studio/backend-setting';
const SETTINGS: readonly BackendPreference[] = ['auto', 'webgpu', 'wasm'];

export interface BackendState {
  report: BackendReport | null;
  error: string | null;
  /** The header's Auto / GPU / CPU setting; every generation (and training, once it exists) runs with it. */
  setting: BackendPreference;
  /** What the setting means on this device, once the probe has answered. */
  choice: BackendChoice | null;
  probe(): Promise<void>;
  /** The worker was replaced (it crashed or lost its GPU): forget the old answer and ask the new worker. */
  workerReplaced(): Promise<void>;
  setSetting(setting: BackendPreference): void;
}

/** What the worker found to compute on (asked once at start) and where the person wants work to run. */
export function createBackendStore(worker: StudioClient, storage: Pick<Storage, 'getItem' | 'setItem'> | undefined) {
  const saved = storage?.getItem(BACKEND_SETTING_KEY);
  const initial = SETTINGS.find((s) => s === saved) ?? 'auto';
  return create<BackendState>()((set, get) => ({
    report: null,
    error: null,
    setting: initial,
    choice: null,
    async probe() {
      try {
        const report = await worker.request('probeBackend', undefined);
        set({ report, choice: chooseBackend(get().setting, report), error: null });
      } catch (error) {
        set({ error: `The worker did not answer: ${error instanceof Error ? error.message : String(error)}` });
      }
    },
    workerReplaced() {
      set({ report: null, choice: null, error: null });
      return get().probe();
    },
    setSetting(setting) {
      storage?.setItem(BACKEND_SETTING_KEY, setting);
      const report = get().report;
      set({ setting, choice: report ? chooseBackend(setting, report) : null });
    },
  }));
}
