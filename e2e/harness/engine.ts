/**
 * Browser harness for the training engine (e2e/engine.spec.ts, bench/train.ts): compiles the
 * reference block's train step in the page and runs it with the TrainRuntime on a chosen EP.
 */
import { compileTrainStep } from '../../src/engine/optim/train-step';
import type { BackendReport } from '../../src/engine/runtime/backend';
import { BENCH_BLOCK, TINY_BLOCK, referenceBatch, referenceBlock } from '../../src/engine/runtime/testing/reference-block';
import { TrainRuntime } from '../../src/engine/runtime/train-runtime';

export interface HarnessRequest {
  block: 'tiny' | 'bench';
  ep: 'webgpu' | 'wasm';
  io?: 'ort' | 'gpu' | 'capture';
  steps: number;
  /** Runs before timing starts (session warm-up, shader compilation). */
  warmup?: number;
  /** wasm threads (default: onnxruntime-web's choice). */
  threads?: number;
}

export interface HarnessResult {
  backend: BackendReport;
  nodeCount: number;
  losses: number[];
  /** Per timed step, milliseconds (loss read back included). */
  msPerStep: number[];
  createMs: number;
}

async function runTrainStep(req: HarnessRequest): Promise<HarnessResult> {
  const cfg = { ...(req.block === 'tiny' ? TINY_BLOCK : BENCH_BLOCK), trainNonAttention: true };
  const block = referenceBlock(cfg);
  const compiled = compileTrainStep(block.graph, block.loss, { adamw: { weightDecay: 0.01 } });
  const batch = referenceBatch(cfg);
  const t0 = performance.now();
  const rt = await TrainRuntime.create({ ep: req.ep, io: req.io, threads: req.threads, programs: [compiled.step], state: compiled.initialState });
  const createMs = performance.now() - t0;
  const losses: number[] = [];
  const msPerStep: number[] = [];
  try {
    for (let t = 1; t <= (req.warmup ?? 0) + req.steps; t++) {
      const s = performance.now();
      const { metrics } = await rt.run('step', { ...batch, lr: 3e-3, step: t, max_grad_norm: 1 });
      if (t > (req.warmup ?? 0)) msPerStep.push(performance.now() - s);
      losses.push(metrics![0]!);
    }
  } finally {
    await rt.dispose();
  }
  return { backend: rt.backend, nodeCount: compiled.step.nodeCount, losses, msPerStep, createMs };
}

/** What the page's own WebGPU sees, independent of onnxruntime. */
async function probeWebGpu(): Promise<{ hasGpu: boolean; adapter: boolean; architecture: string }> {
  const adapter = await navigator.gpu?.requestAdapter();
  return { hasGpu: 'gpu' in navigator, adapter: Boolean(adapter), architecture: adapter?.info.architecture ?? '' };
}

const harness = { runTrainStep, probeWebGpu, crossOriginIsolated: () => self.crossOriginIsolated };
export type EngineHarness = typeof harness;
(window as unknown as { engineHarness: EngineHarness }).engineHarness = harness;
document.body.dataset.ready = 'true';
