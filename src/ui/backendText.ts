import type { BackendReport } from '../protocol/studioJobs';

export const BACKEND_LABEL: Record<BackendReport['backend'], string> = {
  'webgpu-gpu': 'WebGPU (GPU)',
  'webgpu-software': 'WebGPU (software)',
  'cpu-wasm': 'CPU (wasm)',
};

/** What the backend means for how long things take, in plain words. */
export function speedNote(report: BackendReport): string {
  const threads = report.crossOriginIsolated
    ? `${report.logicalCores} CPU threads`
    : 'a single CPU thread (the page is not cross-origin isolated, so wasm threads are off)';
  switch (report.backend) {
    case 'webgpu-gpu':
      return 'Training and sampling run on your graphics card: the fastest path this browser offers.';
    case 'webgpu-software':
      return (
        'WebGPU is emulated on the CPU. It works but is far slower than a graphics card — a training step on it ' +
        `took about 25× longer than on the CPU (wasm) path in our measurements. The CPU path uses ${threads}.`
      );
    case 'cpu-wasm':
      return `Work runs on ${threads} with WebAssembly: fine for sampling small images, slow for training.`;
  }
}
