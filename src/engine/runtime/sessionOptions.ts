import type { InferenceSession } from 'onnxruntime-web';
import type { ExecutionProvider } from './backend';

/**
 * Session options for the engine's sessions. The EP is requested alone (a list with 'wasm' would fall back
 * silently). On WebGPU, `capture` records the graph's commands on the first run and replays them (every input
 * and output must then be a GPU buffer, so all outputs are requested there); otherwise `gpuOutputs` stay on
 * the GPU and every other output comes back to the CPU. Both are ignored on wasm. The native CPU EP takes its
 * thread count per session (`threads`); the wasm EP's is global (see configureWasmThreads).
 */
export function sessionOptions(
  ep: ExecutionProvider,
  o: { capture?: boolean; gpuOutputs?: readonly string[]; threads?: number } = {},
): InferenceSession.SessionOptions {
  const base: InferenceSession.SessionOptions = { executionProviders: [ep], graphOptimizationLevel: 'all' };
  if (ep === 'cpu') return { ...base, intraOpNumThreads: o.threads ?? 0, interOpNumThreads: 1 };
  if (ep !== 'webgpu') return base;
  if (o.capture) return { ...base, enableGraphCapture: true, preferredOutputLocation: 'gpu-buffer' };
  if (!o.gpuOutputs?.length) return base;
  return { ...base, preferredOutputLocation: Object.fromEntries(o.gpuOutputs.map((n) => [n, 'gpu-buffer' as const])) };
}
