/**
 * WebGPU validation errors do not reach onnxruntime's promises: a kernel whose pipeline fails validation
 * is skipped and its output silently stays zeros (e2e/engine.spec.ts shows it). This collects the device's
 * uncaptured errors so a caller can turn them into a thrown error after each run.
 *
 * A lost device does not reach them either: onnxruntime-web's run on a destroyed device never settles
 * (e2e/device-loss.spec.ts), so {@link GpuErrorWatch.unlessLost} races GPU work against `device.lost`.
 */
export class GpuErrorWatch {
  private readonly errors: string[] = [];
  private readonly onError = (e: Event) => this.errors.push((e as GPUUncapturedErrorEvent).error.message);
  /** Rejects once the device is lost; never resolves. */
  private readonly lost: Promise<never>;

  constructor(device: GPUDevice) {
    device.addEventListener('uncapturederror', this.onError);
    this.lost = device.lost.then((info) => {
      throw new DeviceLostError(`the GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''})`);
    });
    this.lost.catch(() => undefined); // observed by whoever races it; no unhandled rejection when nobody does
  }

  /** Throws (and forgets) every error reported since the last check, naming `what` was running. */
  throwIfAny(what: string): void {
    if (this.errors.length === 0) return;
    throw new Error(`WebGPU reported errors while running ${what}: ${this.errors.splice(0).join('; ')}`);
  }

  /** `work`, or a rejection naming the loss as soon as the device is lost (whichever comes first). */
  unlessLost<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.lost]);
  }
}

/** The GPU device went away (driver reset, another tab's crash, `destroy()`); work on it never finishes. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}
