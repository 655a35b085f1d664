/**
 * Counts the page's live WebGPU buffers (created and not yet destroyed) by wrapping GPUDevice.createBuffer and
 * GPUBuffer.destroy — the browser's own objects, watched, not replaced. onnxruntime keeps freed buffers in a pool
 * for reuse, so a leak shows as a count that grows from one identical request to the next once the pool has warmed up (the
 * second request may still add a few: onnxruntime returns some buffers to its pool only after the next submit).
 */
const live = new Set<GPUBuffer>();

export function countGpuBuffers(): void {
  if (typeof GPUDevice === 'undefined') return;
  const create = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
    const buffer = create.call(this, descriptor);
    live.add(buffer);
    return buffer;
  };
  const destroy = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function (this: GPUBuffer) {
    live.delete(this);
    destroy.call(this);
  };
}

export const liveGpuBuffers = (): number => live.size;
