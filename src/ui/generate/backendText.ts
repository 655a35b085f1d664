import type { GenerationBackend } from '../../generation/jobTypes';
import { threadsText } from '../backendText';

/** What really ran the model, in a few words: "CPU (wasm, 2 threads)", "WebGPU (software: google swiftshader)". */
export function generationBackendLabel(backend: GenerationBackend): string {
  if (backend.ep !== 'webgpu') return `CPU (${backend.ep === 'cpu' ? 'native' : 'wasm'}${backend.threads ? `, ${threadsText(backend.threads)}` : ''})`;
  const kind = backend.kind === 'gpu' ? 'GPU' : 'software';
  return `WebGPU (${kind}${backend.adapter ? `: ${backend.adapter}` : ''})`;
}
