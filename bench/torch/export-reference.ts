/**
 * Exports what bench/torch/reference_block.py needs to train the same network in PyTorch: the block's
 * initial parameters by name (trainable and frozen), the batch, the per-step hyperparameters, and the
 * loss / grad-norm trajectory of the very program `npm run bench:train` times, run here on the wasm EP.
 *
 *   npx tsx bench/torch/export-reference.ts [--networks=tiny,reference] [--steps=10] [--out-dir=DIR]
 *
 * Writes DIR/<network>.safetensors (default DIR: the OS temp dir) and prints JSON with the wasm ms/step
 * (median of the steps after 2 warm-up steps) on this machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileTrainStep } from '../../src/engine/optim/trainStep';
import { BENCH_BLOCK, TINY_BLOCK, referenceBlock } from '../../src/engine/runtime/testing/referenceBlock';
import { ProgramRuntime } from '../../src/engine/runtime/programRuntime';
import { writeSafetensors, type Float32Tensor } from '../../src/model/safetensors';
import { option } from '../harness-page';
import { buildStep } from '../networks';

type BlockNetwork = 'tiny' | 'reference';
/** The optimizer settings bench/networks.ts compiles (AdamW betas/eps are the PyTorch defaults it bakes in). */
const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
const WARMUP = 2;

const networks = option('networks', 'tiny,reference').split(',') as BlockNetwork[];
const steps = Number(option('steps', '10'));
const outDir = option('out-dir', tmpdir());
const threads = Math.min(4, cpus().length);
for (const n of networks) if (n !== 'tiny' && n !== 'reference') throw new Error(`--networks: ${n} is not tiny or reference`);
if (!Number.isInteger(steps) || steps <= WARMUP) throw new Error(`--steps must be an integer > ${WARMUP}, got ${steps}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

async function exportNetwork(network: BlockNetwork) {
  // The same block, batch and optimizer as bench/networks.ts; checked below to compile to the bench's exact program.
  const cfg = { ...(network === 'tiny' ? TINY_BLOCK : BENCH_BLOCK), trainNonAttention: true };
  const block = referenceBlock(cfg);
  const compiled = compileTrainStep(block.graph, block.loss, { adamw: ADAMW });
  const bench = buildStep(network);
  if (!sameBytes(compiled.step.model, bench.program.model)) {
    throw new Error(`${network}: the exported block no longer compiles to the program bench/networks.ts times; update ADAMW/cfg here`);
  }
  const feeds = Array.from({ length: steps }, (_, i) => bench.feeds(i + 1));

  const rt = await ProgramRuntime.create({ ep: 'wasm', programs: [compiled.step], state: compiled.initialState, threads });
  const losses: number[] = [];
  const gradNorms: number[] = [];
  const times: number[] = [];
  for (const f of feeds) {
    const t0 = performance.now();
    const { metrics } = await rt.run('step', f);
    times.push(performance.now() - t0);
    losses.push(metrics![0]!);
    gradNorms.push(metrics![1]!);
  }
  await rt.dispose();

  const tensors = new Map<string, Float32Tensor>();
  for (const p of block.graph.parameters()) tensors.set(p.tensor.name, { shape: [...p.tensor.shape], data: p.data as Float32Array });
  for (const [name, t] of Object.entries(block.inputs)) {
    tensors.set(`input.${t.name}`, { shape: [...t.shape], data: feeds[0]![t.name] as Float32Array });
    if (!(feeds[0]![t.name] instanceof Float32Array)) throw new Error(`${network}: batch input ${name} missing from the bench feeds`);
  }
  const settings = {
    network,
    config: { ...cfg, loraAlpha: cfg.rank, groupNormEpsilon: 1e-5 },
    trainable: block.graph.parameters('trainable').map((p) => p.tensor.name),
    adamw: ADAMW,
    lr: feeds.map((f) => f.lr),
    maxGradNorm: feeds[0]!.max_grad_norm ?? null,
    losses,
    gradNorms,
  };
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${network}.safetensors`);
  writeFileSync(path, writeSafetensors(tensors, { metadata: { format: 'pt', reference: JSON.stringify(settings) } }));
  const timed = times.slice(WARMUP);
  return {
    network,
    file: path,
    nodes: compiled.step.runtimeNodeCount,
    trainable: bench.trainable,
    wasmMsPerStep: Math.round(median(timed) * 10) / 10,
    wasmMsMin: Math.round(Math.min(...timed) * 10) / 10,
    losses,
  };
}

const results = [];
for (const n of networks) results.push(await exportNetwork(n));
console.log(JSON.stringify({ ep: 'wasm', where: 'node', wasmThreads: threads, cpu: cpus()[0]?.model, steps, warmup: WARMUP, results }, null, 2));
