import { describe, expect, it } from 'vitest';
import type { BackendReport } from '../protocol/studioJobs';
import { chooseBackend } from './backendChoice';
import { probeBackend } from '../worker/backendProbe';

const limits = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27, maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256 };
const adapter = (vendor: string, architecture: string, isFallbackAdapter: boolean) => ({
  vendor,
  architecture,
  device: '',
  description: '',
  isFallbackAdapter,
  shaderF16: false,
  limits,
});
const base = { crossOriginIsolated: true, logicalCores: 2, wasmThreads: 2 };
const hardware: BackendReport = { ...base, backend: 'webgpu-gpu', reason: 'a hardware adapter answered', adapter: adapter('nvidia', 'hopper', false) };
const software: BackendReport = {
  ...base,
  backend: 'webgpu-software',
  reason: 'the browser reports a fallback (software) adapter',
  adapter: adapter('google', 'swiftshader', true),
};

describe('chooseBackend', () => {
  it("'auto' takes a hardware GPU", () => {
    expect(chooseBackend('auto', hardware)).toEqual({ ep: 'webgpu', why: expect.stringMatching(/graphics card is available/) });
  });

  it("'auto' passes over a software adapter for wasm, naming it and the measured cost", () => {
    const choice = chooseBackend('auto', software);
    expect(choice.ep).toBe('wasm');
    expect(choice.why).toMatch(/google swiftshader\) is a software renderer, far slower than WebAssembly/);
    expect(choice.why).toMatch(/199\.5 s/);
  });

  it("'auto' without WebGPU runs on wasm with the probe's plain reason", async () => {
    const none = await probeBackend({ gpu: undefined, crossOriginIsolated: true, hardwareConcurrency: 2 });
    expect(chooseBackend('auto', none)).toEqual({ ep: 'wasm', why: none.reason });
  });

  it('GPU and CPU chosen by name are obeyed where possible, and say so', () => {
    expect(chooseBackend('wasm', hardware)).toEqual({ ep: 'wasm', why: 'you chose CPU in the backend setting' });
    expect(chooseBackend('webgpu', hardware).ep).toBe('webgpu');
    const slow = chooseBackend('webgpu', software);
    expect(slow.ep).toBe('webgpu');
    expect(slow.why).toMatch(/software renderer .* far slower/);
  });

  it('GPU chosen where there is none runs on the CPU and says why', () => {
    const none: BackendReport = {
      ...base,
      backend: 'cpu-wasm',
      reason: 'this browser has no WebGPU, or it is turned off (navigator.gpu missing)',
      adapter: null,
    };
    expect(chooseBackend('webgpu', none)).toEqual({ ep: 'wasm', why: `you chose GPU, but ${none.reason}; running on the CPU instead` });
  });
});
