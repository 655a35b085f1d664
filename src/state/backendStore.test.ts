import { describe, expect, it } from 'vitest';
import { JobClient } from '../protocol/client';
import type { Endpoint } from '../protocol/jobs';
import { serveJobs } from '../protocol/server';
import type { BackendReport, StudioJobs } from '../protocol/studioJobs';
import { BACKEND_SETTING_KEY, createBackendStore } from './backendStore';

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
  const fail = () => {
    throw new Error('not used');
  };
  const { port1, port2 } = new MessageChannel();
  serveJobs<StudioJobs>(port2 as unknown as Endpoint, {
    probeBackend: () => software,
    prepareImage: fail,
    loadModel: fail,
    generate: fail,
    measurePrompt: fail,
    unloadModels: fail,
    generatePriors: fail,
    train: fail,
    pauseTraining: fail,
    exportCheckpoint: fail,
    importModel: fail,
  });
  port1.start();
  port2.start();
  return { client: new JobClient<StudioJobs>(port1 as unknown as Endpoint), close: () => (port1.close(), port2.close()) };
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

  it('ignores a stored value it does not know', () => {
    const storage = memoryStorage();
    storage.setItem(BACKEND_SETTING_KEY, 'tpu');
    const { client, close } = worker();
    expect(createBackendStore(client, storage).getState().setting).toBe('auto');
    close();
  });
});
