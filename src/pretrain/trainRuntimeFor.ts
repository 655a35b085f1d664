/**
 * The train runtime of a Node pretraining run: onnxruntime-node's CPU EP ('cpu'), onnxruntime-web's wasm EP, or
 * its WebGPU EP on Dawn ('webgpu': an NVIDIA server, see gpu.md), where large batches cost little more per step.
 */
import { installDawn } from '../engine/runtime/nodeDawn';
import { ProgramRuntime, type RuntimeProgram } from '../engine/runtime/programRuntime';

export type TrainEp = 'cpu' | 'wasm' | 'webgpu';

export async function trainRuntimeFor(ep: TrainEp, threads: number, programs: RuntimeProgram[], state: Record<string, Float32Array>): Promise<ProgramRuntime> {
  if (ep !== 'webgpu') return ProgramRuntime.create({ ep, threads, programs, state });
  await installDawn();
  return ProgramRuntime.create({ ep, ortFlavor: 'node-webgpu', io: 'capture', programs, state });
}

export function describeRuntime(rt: ProgramRuntime): string {
  const b = rt.backend;
  if (b.ep === 'webgpu')
    return `WebGPU (${b.kind === 'gpu' ? '' : 'software, '}${[b.adapter?.vendor, b.adapter?.architecture, b.adapter?.description].filter(Boolean).join(' ')})`;
  return `${b.ep === 'cpu' ? 'onnxruntime-node CPU' : 'wasm'} (${b.threads} thread${b.threads === 1 ? '' : 's'})`;
}
