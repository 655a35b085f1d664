import { describe, expect, it } from 'vitest';
import { classifyAdapter, describeWebGpu } from './backend';
import type { Ort } from './ort';

const hardware = { vendor: 'apple', architecture: 'metal-3', description: '', isFallbackAdapter: false };

describe('classifyAdapter', () => {
  it('calls software renderers software, whichever field names them, and flagged fallbacks too', () => {
    for (const a of [
      { ...hardware, vendor: 'google', architecture: 'swiftshader' },
      { ...hardware, description: 'llvmpipe (LLVM 15.0.6, 256 bits)' },
      { ...hardware, vendor: 'Microsoft Basic Render Driver (WARP)' },
      { ...hardware, description: 'Software Adapter' },
      { ...hardware, isFallbackAdapter: true },
    ]) {
      expect(classifyAdapter(a).software, JSON.stringify(a)).toBe(true);
    }
    expect(classifyAdapter(hardware)).toEqual({ software: false, reason: 'a hardware adapter answered' });
  });

  it('decides the kind the engine reports for the device onnxruntime uses', () => {
    const ort = { env: { webgpu: {} } } as unknown as Ort;
    const device = (info: Partial<GPUAdapterInfo>) => ({ adapterInfo: { vendor: '', architecture: '', device: '', description: '', ...info } }) as GPUDevice;
    // The name only in the vendor field: the worker's badge and the engine must agree.
    expect(describeWebGpu(device({ vendor: 'swiftshader' }), ort).kind).toBe('software-gpu');
    expect(describeWebGpu(device({ vendor: 'nvidia', architecture: 'hopper' }), ort).kind).toBe('gpu');
  });
});
