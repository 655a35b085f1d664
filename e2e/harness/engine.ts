/**
 * Browser harness for the training engine (e2e/engine.spec.ts, bench/train.ts): compiles a network's
 * train step in the page and runs it with the ProgramRuntime on a chosen EP.
 */
import { buildStep, type NetworkName, type OptimizerLayout } from '../../bench/networks';
import textConfigJson from '../../models/builtin/text_encoder/config.json';
import unetConfigJson from '../../models/builtin/unet/config.json';
import vaeConfigJson from '../../models/builtin/vae/config.json';
import { parseCLIPTextConfig, parseUNetConfig, parseVAEConfig } from '../../src/model/config';
import { compileUnetStep } from '../../src/pretrain/unetTraining';
import { compileVaeStep } from '../../src/pretrain/vaeTraining';
import { GraphBuilder, attr, serializeGraph } from '../../src/engine/graph';
import { compileTrainStep } from '../../src/engine/optim/trainStep';
import type { BackendReport } from '../../src/engine/runtime/backend';
import { loadOrt } from '../../src/engine/runtime/ort';
import { sessionOptions } from '../../src/engine/runtime/sessionOptions';
import { TINY_BLOCK, referenceBlock } from '../../src/engine/runtime/testing/referenceBlock';
import { ProgramRuntime } from '../../src/engine/runtime/programRuntime';
import { countGpuBuffers, liveGpuBuffers } from './gpuBufferCount';
import { capturePlacement, type Placement } from './placement';

export interface HarnessRequest {
  network: NetworkName;
  /** Default 'flat' (the product); 'per-parameter' is the benchmark baseline. */
  optimizer?: OptimizerLayout;
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
  losses: number[];
  /** Nodes of the step that run each step (see CompiledProgram.runtimeNodeCount). */
  nodeCount: number;
  /** Per timed step, milliseconds (loss read back included). */
  msPerStep: number[];
  createMs: number;
}

async function runTrainStep(req: HarnessRequest): Promise<HarnessResult> {
  const { program, initialState, feeds } = buildStep(req.network, req.optimizer);
  const t0 = performance.now();
  const rt = await ProgramRuntime.create({ ep: req.ep, io: req.io, threads: req.threads, programs: [program], state: initialState });
  const createMs = performance.now() - t0;
  const losses: number[] = [];
  const msPerStep: number[] = [];
  try {
    for (let t = 1; t <= (req.warmup ?? 0) + req.steps; t++) {
      const s = performance.now();
      const { metrics } = await rt.run('step', feeds(t));
      if (t > (req.warmup ?? 0)) msPerStep.push(performance.now() - s);
      losses.push(metrics![0]!);
    }
  } finally {
    await rt.dispose();
  }
  return { backend: rt.backend, nodeCount: program.runtimeNodeCount, losses, msPerStep, createMs };
}

/**
 * Runs a program whose Split has 9 outputs (more storage buffers than WebGPU allows per stage; the
 * kernel fails validation and would silently produce zeros). Returns the runtime's error, or null.
 */
async function runInvalidProgram(): Promise<string | null> {
  const g = new GraphBuilder('too_wide');
  const p = g.input('p', 'float32', [9]);
  // The raw node: the builder's own split() would emit a tree of narrow Splits precisely to avoid this.
  const pieces = g.node('Split', [p, g.int64s(new Array<number>(9).fill(1))], new Array(9).fill({ dtype: 'float32', shape: [1] }), { axis: attr.int(0) });
  g.output(g.concat(pieces.map((t) => g.mul(t, 2)).slice(0, 7), 0), 'p.next');
  g.output(g.reduceSum(p, [0]), 'metrics');
  const program = { name: 'step', model: serializeGraph(g), feeds: [], state: [{ name: 'p', output: null }], readback: ['p.next', 'metrics'] };
  const rt = await ProgramRuntime.create({ ep: 'webgpu', programs: [program], state: { p: new Float32Array(9).fill(1) } });
  try {
    await rt.run('step', {});
    return null;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await rt.dispose();
  }
}

/**
 * A graph-captured reader borrowing a lender's shared state (the validation pipeline's case): the replay reads the
 * lender's updates in place, and after the first captured run the borrowed state cannot move to another buffer
 * (a replay would still read the recorded one), neither by borrowState nor by importState. Returns the reader's sums
 * after each lender step and the two refusals.
 */
async function runBorrowAfterCapture(): Promise<{
  sums: number[];
  lenderSums: number[];
  borrowError: string | null;
  importError: string | null;
  /** WebGPU buffers created by the two refused calls (a refusal must not leave one behind). */
  buffersLeft: number;
}> {
  const n = 8;
  const inc = new GraphBuilder('inc');
  inc.output(inc.add(inc.input('v', 'float32', [n]), 1), 'v.next');
  const incProgram = { name: 'inc', model: serializeGraph(inc), feeds: [], state: [{ name: 'v', output: 'v.next' }], readback: [] };
  const sum = new GraphBuilder('sum');
  sum.output(sum.reduceSum(sum.input('values', 'float32', [n]), [0], false), 'total');
  const sumProgram = { name: 'sum', model: serializeGraph(sum), feeds: [], state: [{ name: 'values', output: null }], readback: ['total'] };
  const start = Float32Array.from({ length: n }, (_, i) => i);
  const lender = await ProgramRuntime.create({ ep: 'webgpu', programs: [incProgram], state: { v: start }, shared: ['v'] });
  const other = await ProgramRuntime.create({ ep: 'webgpu', programs: [incProgram], state: { v: start }, shared: ['v'] });
  const reader = await ProgramRuntime.create({ ep: 'webgpu', io: 'capture', programs: [sumProgram], state: { values: lender.stateTensor('v') } });
  const refusal = (f: () => void) => {
    try {
      f();
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  };
  try {
    const sums: number[] = [];
    const lenderSums: number[] = [];
    const read = async () => {
      sums.push((await reader.run('sum', {})).total![0]!);
      lenderSums.push((await lender.exportState(['v'])).v!.reduce((a, x) => a + x, 0));
    };
    await read();
    await lender.run('inc', {});
    await read();
    const before = liveGpuBuffers();
    const borrowError = refusal(() => reader.borrowState('values', other.stateTensor('v')));
    const importError = refusal(() => reader.importState({ values: new Float32Array(n) }));
    const buffersLeft = liveGpuBuffers() - before;
    await lender.run('inc', {});
    await read();
    return { sums, lenderSums, borrowError, importError, buffersLeft };
  } finally {
    await reader.dispose();
    await other.dispose();
    await lender.dispose();
  }
}

/**
 * An embedding step fed int64 and int32 token ids that change every step (as pretraining's input_ids do), on one EP
 * and io mode: io 'gpu' / 'capture' keep such feeds in fixed GPU buffers sized by dtype, and rewrite them each step.
 */
const [B, L, V, D] = [2, 5, 11, 4];

function idsStep() {
  const g = new GraphBuilder('ids_step');
  const table = g.param(
    'table',
    [V, D],
    Float32Array.from({ length: V * D }, (_, i) => Math.sin(i * 1.7)),
  );
  const ids64 = g.input('ids64', 'int64', [B, L]);
  const ids32 = g.input('ids32', 'int32', [B, L]);
  const target = g.input('target', 'float32', [B, L, D]);
  const d = g.sub(g.mul(g.gather(table, ids64), g.gather(table, ids32)), target);
  return compileTrainStep(g, g.reduceSum(g.mul(d, d), [0, 1, 2], false), { adamw: { weightDecay: 0 } });
}

async function runIdsStep(req: {
  ep: 'webgpu' | 'wasm';
  io?: 'ort' | 'gpu' | 'capture';
  steps: number;
}): Promise<{ backend: BackendReport; losses: number[] }> {
  const c = idsStep();
  const rt = await ProgramRuntime.create({ ep: req.ep, io: req.io, programs: [c.step], state: c.initialState });
  const losses: number[] = [];
  try {
    for (let t = 1; t <= req.steps; t++) {
      const id = (i: number, k: number) => (i * 7 + t * k) % V;
      const { metrics } = await rt.run('step', {
        ids64: BigInt64Array.from({ length: B * L }, (_, i) => BigInt(id(i, 3))),
        ids32: Int32Array.from({ length: B * L }, (_, i) => id(i, 5)),
        target: Float32Array.from({ length: B * L * D }, (_, i) => Math.cos(i + t)),
        lr: 0.05,
        step: t,
        max_grad_norm: 100,
      });
      losses.push(metrics![0]!);
    }
  } finally {
    await rt.dispose();
  }
  return { backend: rt.backend, losses };
}

/**
 * Where onnxruntime places every node of compiled train-step programs on WebGPU, from session creation
 * alone (nothing runs, no shader compiles): the tiny block with convs, norm and LoRA training, as
 * step / accumulate / apply (optimizer, Split/Concat trees, loss, both conv-gradient formulations), and
 * the built-in UNet's LoRA step.
 */
async function trainStepPlacement(): Promise<Record<string, Placement & { nodes: number }>> {
  const ort = await loadOrt();
  const blk = referenceBlock({ ...TINY_BLOCK, trainNonAttention: true });
  const c = compileTrainStep(blk.graph, blk.loss, { adamw: { weightDecay: 0.01 }, accumulation: true });
  const seeded = { kind: 'seeded' as const, seed: 1 };
  // What `npm run pretrain -- --ep webgpu` runs graph-captured: every node must be on WebGPU or capture is refused.
  const pretrainVae = compileVaeStep(parseVAEConfig(vaeConfigJson), seeded, { batch: 1, crop: 16, klWeight: 1e-6 });
  const pretrainUnet = compileUnetStep(
    { config: parseUNetConfig(unetConfigJson), source: seeded },
    { config: parseCLIPTextConfig(textConfigJson), source: seeded },
    { batch: 1, latent: 16 },
  );
  const programs = {
    'tiny step': c.step,
    'tiny accumulate': c.accumulate!,
    'tiny apply': c.apply!,
    'unet LoRA step': buildStep('unet').program,
    'embedding step': idsStep().step,
    'VAE pretraining step': pretrainVae.step,
    'UNet + text encoder pretraining step': pretrainUnet.step,
  };
  const out: Record<string, Placement & { nodes: number }> = {};
  for (const [name, program] of Object.entries(programs)) {
    const { value: session, placement } = await capturePlacement(() =>
      ort.InferenceSession.create(program.model, { ...sessionOptions('webgpu'), logSeverityLevel: 0 }),
    );
    await session.release();
    out[name] = { ...placement, nodes: program.nodeCount };
  }
  return out;
}

/** What the page's own WebGPU sees, independent of onnxruntime. */
async function probeWebGpu(): Promise<{ hasGpu: boolean; adapter: boolean; architecture: string }> {
  const adapter = await navigator.gpu?.requestAdapter();
  return { hasGpu: 'gpu' in navigator, adapter: Boolean(adapter), architecture: adapter?.info.architecture ?? '' };
}

const harness = {
  runTrainStep,
  runIdsStep,
  runInvalidProgram,
  runBorrowAfterCapture,
  trainStepPlacement,
  probeWebGpu,
  crossOriginIsolated: () => self.crossOriginIsolated,
};
export type EngineHarness = typeof harness;

declare global {
  interface Window {
    /** Set by e2e/harness/engine.ts; driven by Playwright through page.evaluate. */
    engineHarness: EngineHarness;
  }
}
countGpuBuffers();
window.engineHarness = harness;
document.body.dataset.ready = 'true';
