/**
 * WebGPU in Node through Dawn (npm `webgpu`), for tools that run the engine's WebGPU path without a browser
 * (NVIDIA servers; or Chromium's SwiftShader ICD on a CPU machine, see gpu.md). Installs `navigator.gpu` and the
 * WebGPU globals onnxruntime-web expects, with the two workarounds dawn.node needs. Node only; call once, before
 * `loadOrt('node-webgpu')`.
 */
let release: (() => void) | null = null;

/** Returns a function that stops the keep-alive timer (call it when the tool is done with the GPU). */
export async function installDawn(): Promise<() => void> {
  if (release) return release;
  const specifier = 'webgpu';
  const { create, globals } = (await import(/* @vite-ignore */ specifier)) as { create: (flags: string[]) => GPU; globals: object };
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true, writable: true });
  // onnxruntime-web uploads from its wasm memory, a SharedArrayBuffer, which dawn.node rejects (or crashes on): copy first.
  const writeBuffer = GPUQueue.prototype.writeBuffer;
  GPUQueue.prototype.writeBuffer = function (
    this: GPUQueue,
    buffer: GPUBuffer,
    offset: number,
    data: BufferSource | SharedArrayBuffer,
    dataOffset?: number,
    size?: number,
  ) {
    const shared = data instanceof SharedArrayBuffer || (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer);
    if (!shared) return writeBuffer.call(this, buffer, offset, data as BufferSource, dataOffset, size);
    const bytes = data instanceof SharedArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const unit = ArrayBuffer.isView(data) && 'BYTES_PER_ELEMENT' in data ? (data as Uint8Array).BYTES_PER_ELEMENT : 1;
    const start = (dataOffset ?? 0) * unit;
    const end = size === undefined ? bytes.byteLength : start + size * unit;
    return writeBuffer.call(this, buffer, offset, bytes.slice(start, end));
  } as typeof writeBuffer;
  // Without a live timer Dawn's first mapAsync stalls for ~30 s (and Node may exit while one is pending).
  const timer = setInterval(() => {}, 5);
  release = () => clearInterval(timer);
  return release;
}
