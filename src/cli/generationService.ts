/** The studio worker's GenerationService, set up in this Node process as studio.worker.ts sets it up in a browser. */
import { installDawn } from '../engine/runtime/nodeDawn';
import { nativeAvailable } from '../engine/runtime/ort';
import { GenerationService, type ModelResolver } from '../generation/generationService';
import { probeBackend } from '../worker/backendProbe';

/**
 * `backend` 'cpu' runs on onnxruntime-node's native CPU EP (~4× the wasm EP's speed on these graphs, bench/
 * dreamboothEp.ts), 'wasm' on onnxruntime-web's wasm EP, as the studio without a GPU; 'webgpu' through Dawn (npm
 * webgpu; a GPU server, or SwiftShader's ICD): see the README's GPU notes.
 */
export async function generationService(backend: CliBackend, threads: number, resolve?: ModelResolver): Promise<GenerationService> {
  // The probe gives onnxruntime every core but one of an isolated page: `threads` + 1 cores gives it `threads`.
  const scope = { crossOriginIsolated: true, hardwareConcurrency: threads + 1 };
  if (backend === 'webgpu') await installDawn();
  const gpu = backend === 'webgpu' ? (globalThis.navigator as Navigator).gpu : undefined;
  return new GenerationService(probeBackend({ ...scope, gpu }), resolve, backend === 'webgpu' ? { ortFlavor: 'node-webgpu' } : { cpuEp: backend });
}

/** What the CLIs compute on: the native CPU EP, the wasm EP, or WebGPU through Dawn. */
export type CliBackend = 'cpu' | 'wasm' | 'webgpu';

/** The CPU backend by default: native when onnxruntime-node loads here, else wasm. */
export async function defaultCliBackend(): Promise<CliBackend> {
  return (await nativeAvailable()) ? 'cpu' : 'wasm';
}

/** The generation setting a backend is asked for with: the studio's word for the CPU is 'wasm'. */
export function requestBackend(backend: CliBackend): 'webgpu' | 'wasm' {
  return backend === 'webgpu' ? 'webgpu' : 'wasm';
}
