import type { BackendReport } from '../protocol/studioJobs';
import type { BackendChoice } from '../generation/backendChoice';

/** "1 thread", "2 threads". */
export const threadsText = (n: number) => (n === 1 ? '1 thread' : `${n} threads`);

/** Where work runs for the current setting: "CPU (wasm, 2 threads)", "WebGPU (GPU)", "WebGPU (software)". */
export function choiceLabel(choice: BackendChoice, report: BackendReport): string {
  if (choice.ep === 'wasm') return `CPU (wasm, ${threadsText(report.wasmThreads)})`;
  return report.backend === 'webgpu-gpu' ? 'WebGPU (GPU)' : 'WebGPU (software)';
}

/** What the choice means for how long things take, in plain words. */
export function speedNote(choice: BackendChoice, report: BackendReport, isolationWhy: string | null): string {
  if (choice.ep === 'webgpu') {
    return report.backend === 'webgpu-gpu'
      ? 'Training and sampling run on your graphics card: the fastest path this browser offers.'
      : 'WebGPU is emulated on the CPU here. It works but is far slower than the CPU (wasm) path — choose Auto or CPU for speed.';
  }
  const threads = report.crossOriginIsolated
    ? threadsText(report.wasmThreads)
    : `1 thread (wasm threads need cross-origin isolation, and ${isolationWhy ?? 'the page is not cross-origin isolated yet'})`;
  return `Work runs on the CPU with WebAssembly, ${threads}: fine for sampling small images, slow for training.`;
}
