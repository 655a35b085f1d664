import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-web';
import { createStorageBuffer } from './gpuBuffers';
import type { Ort } from './ort';

type Run = InferenceSession['run'];

/**
 * `session.run` for a plain WebGPU session created with every output on the GPU ('gpu-buffer'), returning CPU tensors
 * as a plain run does. Beside captured sessions, two onnxruntime-web JSEP behaviours need this:
 *
 * - A buffer a run frees stays "pending" until onnxruntime's next flush, and a flush during a captured session's replay
 *   hands it to that session for good (gpu-data-manager's capturedPendingBuffers). A plain run that downloads its CPU
 *   outputs frees them after that download's flush, so a decoder or text encoder run between replays of the captured
 *   denoise step lost its output buffer each time. Here onnxruntime downloads each output after the run (that flush
 *   drains what the run freed, uploaded inputs included) and the GPU outputs are freed at the start of the session's
 *   next run, whose own flushes drain them.
 * - An input buffer other than the one registered at the session's last run is refused when the session that ran last
 *   was captured (registerExternalBuffer checks the previous session's state): GPU inputs are copied into a buffer kept
 *   per input, e.g. the latents of a second captured step session after a guidance change, read by the same decoder.
 *   The copy is queued after the producer's commands: onnxruntime submits a run's commands before the run returns.
 *
 * `release` frees the last outputs and the kept buffers.
 */
export function gpuOutputRun(ort: Ort, device: GPUDevice, plain: Run): { run: Run; release: () => void } {
  let previous: OrtTensor[] = [];
  const kept = new Map<string, { buffer: GPUBuffer; bytes: number; tensor: OrtTensor }>();
  const keep = (name: string, t: OrtTensor) => {
    const bytes = (t.gpuBuffer as GPUBuffer).size;
    const k = kept.get(name);
    if (k && k.bytes === bytes && k.tensor.type === t.type && k.tensor.dims.join() === t.dims.join()) return k;
    if (k) throw new Error(`input ${name} changed to ${t.type} [${t.dims}]: this session keeps [${k.tensor.dims}]`);
    const buffer = createStorageBuffer(device, bytes, name);
    const made = { buffer, bytes, tensor: ort.Tensor.fromGpuBuffer(buffer, { dataType: t.type as 'float32', dims: t.dims }) };
    kept.set(name, made);
    return made;
  };
  const dropOutputs = () => {
    for (const t of previous) t.dispose();
    previous = [];
  };
  const run = (async (feeds: InferenceSession.FeedsType, ...rest: unknown[]) => {
    dropOutputs();
    const inputs: Record<string, OrtTensor> = {};
    const copies = device.createCommandEncoder();
    for (const [name, t] of Object.entries(feeds)) {
      if (t.location !== 'gpu-buffer') {
        inputs[name] = t;
        continue;
      }
      const k = keep(name, t);
      copies.copyBufferToBuffer(t.gpuBuffer as GPUBuffer, 0, k.buffer, 0, k.bytes);
      inputs[name] = k.tensor;
    }
    device.queue.submit([copies.finish()]);
    const outputs = await (plain as (...a: unknown[]) => ReturnType<Run>)(inputs, ...rest);
    previous = Object.values(outputs);
    const out: Record<string, OrtTensor> = {};
    for (const [name, t] of Object.entries(outputs)) {
      out[name] = t.location === 'gpu-buffer' ? new ort.Tensor(t.type as 'float32', (await t.getData()) as Float32Array, t.dims) : t;
    }
    return out;
  }) as Run;
  return {
    run,
    release: () => {
      dropOutputs();
      for (const k of kept.values()) k.buffer.destroy();
      kept.clear();
    },
  };
}
