/** Plain WebGPU buffer helpers for tensors the runtime owns (state, fixed feeds, captured outputs). */

const align4 = (n: number) => Math.ceil(n / 4) * 4;
/**
 * onnxruntime-web's WebGPU kernels read and write float32 tensors as vec4s, so a buffer whose size is
 * not a multiple of 16 loses its last elements (out-of-bounds vec4 reads return zeros). ORT rounds its
 * own buffers up the same way.
 */
const align16 = (n: number) => Math.ceil(n / 16) * 16;

/** A storage buffer holding `data` (or zeros of `byteLength`), usable as an onnxruntime-web gpu-buffer tensor. */
export function createStorageBuffer(device: GPUDevice, data: ArrayBufferView | number, label?: string): GPUBuffer {
  const byteLength = typeof data === 'number' ? data : data.byteLength;
  const buffer = device.createBuffer({
    label,
    size: Math.max(16, align16(byteLength)),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  if (typeof data !== 'number') writeBuffer(device, buffer, data);
  return buffer;
}

/** Uploads `data` to the start of `buffer` (padded to 4 bytes as WebGPU requires). */
export function writeBuffer(device: GPUDevice, buffer: GPUBuffer, data: ArrayBufferView): void {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength % 4 === 0) device.queue.writeBuffer(buffer, 0, bytes);
  else {
    const padded = new Uint8Array(align4(bytes.byteLength));
    padded.set(bytes);
    device.queue.writeBuffer(buffer, 0, padded);
  }
}

/** Copies the first `byteLength` bytes of a GPU buffer to the CPU (through a mappable staging buffer). */
export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, byteLength: number): Promise<ArrayBuffer> {
  const size = align4(byteLength);
  const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, 0, staging, 0, size);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return staging.getMappedRange().slice(0, byteLength);
  } finally {
    staging.destroy();
  }
}

/**
 * Frees a gpu-buffer tensor: a buffer the caller created (`owned`) is destroyed, one onnxruntime allocated
 * goes back to its pool through `tensor.dispose()`. CPU tensors need nothing.
 */
export function releaseGpuTensor(tensor: { readonly location: string; dispose(): void }, owned?: GPUBuffer | null): void {
  if (owned) owned.destroy();
  else if (tensor.location === 'gpu-buffer') tensor.dispose();
}
