import { describe, expect, it } from 'vitest';
import { GpuErrorWatch } from './gpuErrors';

/** A device stand-in: only the event target part the watch uses. */
function fakeDevice() {
  const target = new EventTarget();
  const raise = (message: string) => target.dispatchEvent(Object.assign(new Event('uncapturederror'), { error: { message } }));
  return { device: target as unknown as GPUDevice, raise };
}

describe('GpuErrorWatch', () => {
  it('throws every error reported since the last check once, naming what ran', () => {
    const { device, raise } = fakeDevice();
    const watch = new GpuErrorWatch(device);
    watch.throwIfAny('step');
    raise('too many storage buffers');
    raise('invalid bind group');
    expect(() => watch.throwIfAny('step')).toThrow(/^WebGPU reported errors while running step: too many storage buffers; invalid bind group$/);
    expect(() => watch.throwIfAny('step')).not.toThrow();
  });

  it('stops listening once closed', () => {
    const { device, raise } = fakeDevice();
    const watch = new GpuErrorWatch(device);
    watch.close();
    raise('late');
    expect(() => watch.throwIfAny('step')).not.toThrow();
  });
});
