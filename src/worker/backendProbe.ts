import { classifyAdapter } from '../engine/runtime/backend';
import type { AdapterReport, BackendReport } from '../protocol/studioJobs';

/** What the probe reads from its global scope; a parameter so tests can pass fakes. */
export interface ProbeScope {
  gpu: GPU | undefined;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
}

/** Asks WebGPU for an adapter and a device, and reports which compute backend the studio has and why. */
export async function probeBackend(scope: ProbeScope): Promise<BackendReport> {
  const base = { crossOriginIsolated: scope.crossOriginIsolated, logicalCores: scope.hardwareConcurrency };
  const cpu = (reason: string): BackendReport => ({ ...base, backend: 'cpu-wasm', reason, adapter: null });

  if (!scope.gpu) return cpu('navigator.gpu missing: this browser has no WebGPU, or it is turned off');
  let adapter: GPUAdapter | null;
  try {
    adapter = await scope.gpu.requestAdapter();
  } catch (error) {
    return cpu(`requesting a WebGPU adapter failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!adapter) return cpu('no adapter: WebGPU is present but found no usable GPU or software renderer');

  const report = describeAdapter(adapter);
  // An adapter can exist and still refuse a device (blocklisted driver, lost GPU); only a device can run work.
  try {
    const device = await adapter.requestDevice();
    device.destroy();
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { ...cpu(`the adapter refused a device: ${why}`), adapter: report };
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
