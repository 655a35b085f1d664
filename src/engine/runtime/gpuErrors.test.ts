import { describe, expect, it } from 'vitest';
import { GpuErrorWatch } from './gpuErrors';

/** A device stand-in: only the event target and `lost` parts the watch uses. */
function fakeDevice() {
  const target = new EventTarget();
  const raise = (message: string) => target.dispatchEvent(Object.assign(new Event('uncapturederror'), { error: { message } }));
  let lose!: (info: { reason: string; message: string }) => void;
  const lost = new Promise<{ reason: string; message: string }>((resolve) => (lose = resolve));
  return { device: Object.assign(target, { lost }) as unknown as GPUDevice, raise, lose };
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

  it('turns GPU work that never settles into an error once the device is lost', async () => {
    const { device, lose } = fakeDevice();
    const watch = new GpuErrorWatch(device);
    await expect(watch.unlessLost(Promise.resolve(3))).resolves.toBe(3);
    const hung = watch.unlessLost(new Promise<number>(() => {})); // onnxruntime's run on a destroyed device
    lose({ reason: 'destroyed', message: 'Device was destroyed.' });
    await expect(hung).rejects.toThrow(/^the GPU device was lost \(destroyed: Device was destroyed\.\)$/);
    // Work started after the loss fails at once too.
    await expect(watch.unlessLost(new Promise<number>(() => {}))).rejects.toThrow(/device was lost/);
  });
});
