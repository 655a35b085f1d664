/** The studio worker's GenerationService, set up in this Node process as studio.worker.ts sets it up in a browser. */
import { installDawn } from '../engine/runtime/nodeDawn';
import { GenerationService, type ModelResolver } from '../generation/generationService';
import { probeBackend } from '../worker/backendProbe';

/** `backend` 'webgpu' runs through Dawn (npm webgpu; a GPU server, or SwiftShader's ICD): see the README's GPU notes. */
export async function generationService(backend: 'wasm' | 'webgpu', threads: number, resolve?: ModelResolver): Promise<GenerationService> {
  // The probe gives onnxruntime every core but one of an isolated page: `threads` + 1 cores gives it `threads`.
  const scope = { crossOriginIsolated: true, hardwareConcurrency: threads + 1 };
  if (backend === 'webgpu') await installDawn();
  const gpu = backend === 'webgpu' ? (globalThis.navigator as Navigator).gpu : undefined;
  return new GenerationService(probeBackend({ ...scope, gpu }), resolve, backend === 'webgpu' ? 'node-webgpu' : 'auto');
}
