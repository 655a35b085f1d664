/**
 * WebGPU validation errors do not reach onnxruntime's promises: a kernel whose pipeline fails validation
 * is skipped and its output silently stays zeros (e2e/engine.spec.ts shows it). This collects the device's
 * uncaptured errors so a caller can turn them into a thrown error after each run.
 */
export class GpuErrorWatch {
  private readonly errors: string[] = [];
  private readonly onError = (e: Event) => this.errors.push((e as GPUUncapturedErrorEvent).error.message);

  constructor(private readonly device: GPUDevice) {
    device.addEventListener('uncapturederror', this.onError);
  }

  /** Throws (and forgets) every error reported since the last check, naming `what` was running. */
  throwIfAny(what: string): void {
    if (this.errors.length === 0) return;
    throw new Error(`WebGPU reported errors while running ${what}: ${this.errors.splice(0).join('; ')}`);
  }

  /** Stops listening. */
  close(): void {
    this.device.removeEventListener('uncapturederror', this.onError);
  }
}
