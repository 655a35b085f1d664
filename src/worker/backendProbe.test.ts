import { describe, expect, it } from 'vitest';
import { probeBackend } from './backendProbe';

const scope = { crossOriginIsolated: true, hardwareConcurrency: 8 };

/** The few GPUAdapter members the probe reads, as a browser would report them. */
function adapter(info: Partial<GPUAdapterInfo>, options: { legacyFallback?: boolean; deviceError?: Error; f16?: boolean } = {}) {
  return {
    info: { vendor: '', architecture: '', device: '', description: '', ...info },
    isFallbackAdapter: options.legacyFallback,
    features: new Set(options.f16 ? ['shader-f16'] : []),
    limits: {
      maxBufferSize: 2 ** 30,
      maxStorageBufferBindingSize: 2 ** 27,
      maxComputeWorkgroupStorageSize: 16384,
      maxComputeInvocationsPerWorkgroup: 256,
    },
    requestDevice: async () => {
      if (options.deviceError) throw options.deviceError;
      return { destroy() {} };
    },
  } as unknown as GPUAdapter;
}
const gpuWith = (found: GPUAdapter | null) => ({ requestAdapter: async () => found }) as unknown as GPU;

describe('probeBackend', () => {
  it('reports CPU with the reason when WebGPU is missing or finds nothing', async () => {
    expect(await probeBackend({ ...scope, gpu: undefined })).toMatchObject({
      backend: 'cpu-wasm',
      reason: expect.stringMatching(/no WebGPU.*navigator\.gpu missing/),
      adapter: null,
    });
    expect(await probeBackend({ ...scope, gpu: gpuWith(null) })).toMatchObject({
      backend: 'cpu-wasm',
      reason: expect.stringMatching(/found no graphics card/),
    });
    // The browser's own words go to `detail`, never into the sentence people read.
    const throwing = { requestAdapter: async () => Promise.reject(new Error('GPU process crashed')) } as unknown as GPU;
    const crashed = await probeBackend({ ...scope, gpu: throwing });
    expect(crashed).toMatchObject({ reason: 'the browser would not hand out a graphics adapter', detail: 'GPU process crashed' });
  });

  it('gives wasm every core but one when cross-origin isolated, one thread otherwise', async () => {
    expect((await probeBackend({ ...scope, gpu: undefined })).wasmThreads).toBe(7);
    expect((await probeBackend({ ...scope, crossOriginIsolated: false, gpu: undefined })).wasmThreads).toBe(1);
    expect((await probeBackend({ crossOriginIsolated: true, hardwareConcurrency: 2, gpu: undefined })).wasmThreads).toBe(1);
    expect((await probeBackend({ crossOriginIsolated: true, hardwareConcurrency: 1, gpu: undefined })).wasmThreads).toBe(1);
  });

  it('reports CPU, with the adapter, when the adapter refuses a device', async () => {
    const report = await probeBackend({ ...scope, gpu: gpuWith(adapter({ vendor: 'nvidia' }, { deviceError: new Error('blocklisted') })) });
    expect(report).toMatchObject({ backend: 'cpu-wasm', reason: expect.stringMatching(/adapter would not start/), detail: 'blocklisted' });
    expect(report.adapter?.vendor).toBe('nvidia');
  });

  it('reports a hardware adapter with its limits and features', async () => {
    const report = await probeBackend({ ...scope, gpu: gpuWith(adapter({ vendor: 'nvidia', architecture: 'hopper' }, { f16: true })) });
    expect(report).toMatchObject({ backend: 'webgpu-gpu', crossOriginIsolated: true, logicalCores: 8 });
    expect(report.adapter).toMatchObject({ architecture: 'hopper', shaderF16: true, isFallbackAdapter: false });
    expect(report.adapter?.limits.maxBufferSize).toBe(2 ** 30);
  });

  it('reads the fallback flag from adapter.info, or from the adapter in older browsers', async () => {
    const modern = await probeBackend({ ...scope, gpu: gpuWith(adapter({ vendor: 'x', isFallbackAdapter: true })) });
    const legacy = await probeBackend({ ...scope, gpu: gpuWith(adapter({ vendor: 'x' }, { legacyFallback: true })) });
    expect([modern.backend, legacy.backend]).toEqual(['webgpu-software', 'webgpu-software']);
  });

  it('calls an unflagged software renderer software, by its names (the classifier the engine uses)', async () => {
    const swiftshader = await probeBackend({ ...scope, gpu: gpuWith(adapter({ vendor: 'google', architecture: 'swiftshader' })) });
    expect(swiftshader).toMatchObject({ backend: 'webgpu-software', reason: expect.stringMatching(/software renderer/) });
  });
});
