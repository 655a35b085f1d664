/**
 * The backend rule shared by the page (the header's badge and setting) and the worker (every job that runs a model).
 * Imports no model code, so the page can use it. It lives beside the `BackendPreference` it reads (./jobTypes).
 */
import type { BackendPreference } from './jobTypes';
import type { BackendReport } from '../protocol/studioJobs';

/** Where heavy work runs for a backend setting on this device, and why, in plain words. */
export interface BackendChoice {
  ep: 'webgpu' | 'wasm';
  why: string;
}

/** How the setting is named where people choose it. */
export const BACKEND_SETTING_LABEL: Record<BackendPreference, string> = { auto: 'Auto', webgpu: 'GPU', wasm: 'CPU' };

// Measured in headless Chromium on a 2-core machine without a GPU (SwiftShader adapter).
const SOFTWARE_GPU_COST = 'a 6-step image took 199.5 s there against 3.2 s for 8 steps on the CPU path';

/**
 * Picks the backend by expected speed, not by which API exists: a real graphics card beats WebAssembly, a
 * software adapter (SwiftShader, fallback adapters) loses to it by far, so 'auto' never picks one. The page's
 * badge and the worker's jobs both call this on the same probe report, so they always agree.
 */
export function chooseBackend(setting: BackendPreference, probe: BackendReport): BackendChoice {
  if (setting === 'wasm') return { ep: 'wasm', why: 'you chose CPU in the backend setting' };
  if (setting === 'webgpu') {
    if (probe.backend === 'webgpu-gpu') return { ep: 'webgpu', why: 'you chose GPU in the backend setting' };
    if (probe.backend === 'webgpu-software') {
      return {
        ep: 'webgpu',
        why: `you chose GPU, and the only one here is a software renderer that runs on the CPU — expect it to be far slower (${SOFTWARE_GPU_COST})`,
      };
    }
    return { ep: 'wasm', why: `you chose GPU, but ${probe.reason}; running on the CPU instead` };
  }
  switch (probe.backend) {
    case 'webgpu-gpu':
      return { ep: 'webgpu', why: 'a graphics card is available, the fastest path this browser offers' };
    case 'webgpu-software':
      return {
        ep: 'wasm',
        why: `the only WebGPU adapter${adapterName(probe)} is a software renderer, far slower than WebAssembly on the same CPU (${SOFTWARE_GPU_COST})`,
      };
    case 'cpu-wasm':
      return { ep: 'wasm', why: probe.reason };
  }
}

const adapterName = (probe: BackendReport) => {
  const name = [probe.adapter?.vendor, probe.adapter?.architecture].filter(Boolean).join(' ');
  return name ? ` (${name})` : '';
};
