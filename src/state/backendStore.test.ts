import { describe, expect, it } from 'vitest';
import type { BackendReport } from '../protocol/studioJobs';
import { BACKEND_SETTING_KEY, createBackendStore } from './backendStore';
import { testWorker } from './testWorker';

const software: BackendReport = {
  backend: 'webgpu-software',
  reason: 'the browser reports a fallback (software) adapter',
  adapter: {
    vendor: 'google',
    architecture: 'swiftshader',
    device: '',
    description: '',
    isFallbackAdapter: true,
    shaderF16: false,
    limits: { maxBufferSize: 1, maxStorageBufferBindingSize: 1, maxComputeWorkgroupStorageSize: 1, maxComputeInvocationsPerWorkgroup: 1 },
  },
  crossOriginIsolated: true,
  logicalCores: 2,
  wasmThreads: 2,
};

function worker() {
  return testWorker({
    probeBackend: () => software,
  });
}

/** A Storage with only what the store uses, like localStorage across a reload. */
const memoryStorage = () => {
  const map = new Map<string, string>();
  return { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v) };
};

describe('backend store', () => {
  it('starts on Auto, which runs a software-adapter machine on wasm, and remembers a new setting for the next start', async () => {
    const { client, close } = worker();
    const storage = memoryStorage();
    try {
      const first = createBackendStore(client, storage);
      expect(first.getState().setting).toBe('auto');
      await first.getState().probe();
      expect(first.getState().choice?.ep).toBe('wasm');

      first.getState().setSetting('webgpu');
      expect(first.getState().choice?.ep).toBe('webgpu');
      expect(storage.getItem(BACKEND_SETTING_KEY)).toBe('webgpu');

      const reloaded = createBackendStore(client, storage);
      expect(reloaded.getState().setting).toBe('webgpu');
      await reloaded.getState().probe();
      expect(reloaded.getState().choice?.ep).toBe('webgpu');
    } finally {
      close();
    }
  });

  it('when the worker is replaced, forgets the old answer and shows what the new worker computes on', async () => {
    const gpu: BackendReport = {
      ...software,
      backend: 'webgpu-gpu',
      reason: 'a hardware adapter',
      adapter: { ...software.adapter!, isFallbackAdapter: false },
    };
    const lost: BackendReport = { ...software, backend: 'cpu-wasm', reason: 'no WebGPU adapter', adapter: null };
    const answers = [gpu, lost];
    const { client, close } = testWorker({ probeBackend: () => answers.shift()! });
    try {
      const store = createBackendStore(client, memoryStorage());
      await store.getState().probe();
      expect(store.getState().choice?.ep).toBe('webgpu');
      const replaced = store.getState().workerReplaced();
      expect(store.getState().report).toBeNull();
      await replaced;
      expect(store.getState().report?.backend).toBe('cpu-wasm');
      expect(store.getState().choice?.ep).toBe('wasm');
    } finally {
      close();
    }
  });

  it('ignores a stored value it does not know', () => {
    const storage = memoryStorage();
    storage.setItem(BACKEND_SETTING_KEY, 'tpu');
    const { client, close } = worker();
    expect(createBackendStore(client, storage).getState().setting).toBe('auto');
    close();
  });
});
