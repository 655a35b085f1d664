import { classifyAdapter } from '../engine/runtime/backend';
import type { AdapterReport, BackendReport } from '../protocol/studioJobs';

/** What the probe reads from its global scope; a parameter so tests can pass fakes. */
export interface ProbeScope {
  gpu: GPU | undefined;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
}

/**
 * wasm threads for onnxruntime: every logical core but one, which is left to the page and the rest of the
 * machine, when the page is cross-origin isolated (threads need SharedArrayBuffer); else one. Measured on the
 * 2-core machine this is developed on (shared, load average 8–15): a warm 20-step image in the studio's worker took
 * 5.1–5.3 s with 1 thread against 5.5–9.5 s with 2, and in a page 2.2 s against 17.6 s — onnxruntime's threads
 * wait by spinning, so a thread without a core of its own slows every step. (onnxruntime-web's own default is half
 * the cores, at most 4, and was not what the badge said.)
 */
export function wasmThreadCount(scope: Pick<ProbeScope, 'crossOriginIsolated' | 'hardwareConcurrency'>): number {
  return scope.crossOriginIsolated ? Math.max(1, (scope.hardwareConcurrency || 1) - 1) : 1;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Asks WebGPU for an adapter and a device, and reports which compute backend the studio has and why. */
export async function probeBackend(scope: ProbeScope): Promise<BackendReport> {
  const base = { crossOriginIsolated: scope.crossOriginIsolated, logicalCores: scope.hardwareConcurrency, wasmThreads: wasmThreadCount(scope) };
  const cpu = (reason: string, detail?: string): BackendReport => ({
    ...base,
    backend: 'cpu-wasm',
    reason,
    adapter: null,
    ...(detail !== undefined ? { detail } : {}),
  });

  if (!scope.gpu) return cpu('this browser has no WebGPU, or it is turned off (navigator.gpu missing)');
  let adapter: GPUAdapter | null;
  try {
    adapter = await scope.gpu.requestAdapter();
  } catch (error) {
    return cpu('the browser would not hand out a graphics adapter', errorText(error));
  }
  if (!adapter) return cpu('WebGPU is present but found no graphics card or software renderer to use');

  const report = describeAdapter(adapter);
  // An adapter can exist and still refuse a device (blocklisted driver, lost GPU); only a device can run work.
  try {
    const device = await adapter.requestDevice();
    device.destroy();
  } catch (error) {
    return { ...cpu('the graphics adapter would not start (a blocked driver or a lost GPU)', errorText(error)), adapter: report };
  }
  const { software, reason } = classifyAdapter(report);
  return { ...base, backend: software ? 'webgpu-software' : 'webgpu-gpu', reason, adapter: report };
}

function describeAdapter(adapter: GPUAdapter): AdapterReport {
  const info = adapter.info;
  // Chromium before 127 exposed the flag on the adapter, newer ones on adapter.info.
  const legacyFlag = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: info.isFallbackAdapter ?? legacyFlag ?? false,
    shaderF16: adapter.features.has('shader-f16'),
    limits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    },
  };
}
