import type { GenerationBackend } from '../../generation/jobTypes';

/** What really ran the model, in a few words: "WebGPU (software: google swiftshader)". */
export function generationBackendLabel(backend: GenerationBackend): string {
  if (backend.ep === 'wasm') return `CPU (wasm${backend.threads ? `, ${backend.threads} threads` : ''})`;
  const kind = backend.kind === 'gpu' ? 'GPU' : 'software';
  return `WebGPU (${kind}${backend.adapter ? `: ${backend.adapter}` : ''})`;
}
