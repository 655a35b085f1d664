/**
 * `npm run bench:train`: train-step benchmark, printed as JSON.
 *
 *   - onnxruntime-node's native CPU EP (`ep: 'cpu'`, the Node tools' default) and onnxruntime-web's wasm EP
 *     (the fallback) in this process, per network, same graph bytes and thread count; for the all-weights
 *     UNet and VAE steps also onnxruntime's profiler on the native run: kernel time per op type;
 *   - achieved GFLOP/s: FLOPs of the forward graph's Conv/ConvTranspose/Gemm/MatMul nodes (matmulFlops)
 *     ×3 for a train step, an estimate (backward ≈ 2× forward when every weight trains);
 *   - WebGPU EP in headless Chromium through the harness page (e2e/harness/engine.html, built by
 *     `vite build --mode test`, served by `vite preview`). The performance levers (flat vs
 *     per-parameter optimizer, runtime-owned GPU feed buffers, graph capture) are compared on the tiny
 *     block, where dispatch overhead rather than SwiftShader's arithmetic dominates; the reference
 *     block and the UNet run once each with the default settings.
 *
 * Options: --no-browser, --no-build (reuse dist/), --networks=tiny,reference,unet,unet-full,vae (the browser runs
 * only the first three), --eps=cpu,wasm (Node runtimes), --steps=N (default 10: Node runs of tiny, reference, unet
 * and the tiny block in the browser; the slow SwiftShader runs time 2 steps of the block and 1 of the UNet),
 * --big-steps=N (timed steps of unet-full and vae per runtime, default 2), --big-warmup=N (steps before them, untimed and
 * left out of the profile; default 4: a process's first steps fault in the memory onnxruntime and V8 grow into, and on the
 * native EP that made the first two UNet steps ~2× slower than later ones), --rounds=N
 * (default 3: variants of the small networks run interleaved this many times), --threads=N (both Node
 * runtimes, default min(4, cores)), --no-profile.
 * For an NVIDIA GPU without a browser see bench/train-gpu.mjs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { Page } from 'playwright-core';
import type { HarnessRequest, HarnessResult } from '../e2e/harness/engine';
import { afterRuns, opTimes, partTimes, readProfile } from '../src/engine/runtime/nativeProfile';
import { ProgramRuntime } from '../src/engine/runtime/programRuntime';
import { flag, option, withHarnessPage } from './harness-page';
import { NETWORKS, buildStep, type BenchStep, type NetworkName, type OptimizerLayout } from './networks';

const networks = option('networks', NETWORKS.join(',')).split(',') as NetworkName[];
const eps = option('eps', 'cpu,wasm').split(',') as NodeEp[];
const steps = Number(option('steps', '10'));
const bigSteps = Number(option('big-steps', '2'));
const bigWarmup = Number(option('big-warmup', '4'));
const rounds = Number(option('rounds', '3'));
const threads = Number(option('threads', String(Math.min(4, cpus().length))));
const PORT = 4179;
/** The all-weights steps: seconds per step on CPU, so fewer steps, one round, flat optimizer only, profiled. */
const BIG: readonly NetworkName[] = ['unet-full', 'vae'];
/** Train step ≈ forward + backward (input and weight gradients) ≈ 3× the forward FLOPs. */
const TRAIN_FLOP_FACTOR = 3;

type NodeEp = 'cpu' | 'wasm';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};
const round = (x: number) => Math.round(x * 10) / 10;
/** Three significant digits (FLOP figures span 1e-4 to 1e2). */
const sig = (x: number) => Number(x.toPrecision(3));

interface Row {
  network: NetworkName;
  /** cpu = onnxruntime-node's native CPU EP. */
  ep: 'cpu' | 'wasm' | 'webgpu';
  where: 'node' | 'chromium';
  optimizer: OptimizerLayout;
  io?: string;
  nodes: number;
  msPerStep?: number;
  /** Fastest timed step: on a loaded machine a better estimate of the step's own cost than the median. */
  msMin?: number;
  msPerStepAll?: number[];
  /** Process CPU time per step (all threads), fastest timed step; Node rows only. */
  cpuMsMin?: number;
  /** Estimated train-step FLOPs / fastest step time. */
  gflopsPerS?: number;
  sessionMs?: number;
  adapter?: string;
  error?: string;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Timed steps of one run in this process, on onnxruntime-node's CPU EP or onnxruntime-web's wasm EP. */
async function nodeRun(s: BenchStep, ep: NodeEp, timed: number, warmup: number): Promise<{ nodes: number; times: number[]; cpu: number[]; sessionMs: number }> {
  const t0 = performance.now();
  const rt = await ProgramRuntime.create({ ep, programs: [s.program], state: s.initialState, threads });
  const sessionMs = performance.now() - t0;
  const times: number[] = [];
  const cpu: number[] = [];
  for (let t = 1; t <= warmup + timed; t++) {
    const [a, c] = [performance.now(), cpuMs()];
    await rt.run('step', s.feeds(t));
    if (t > warmup) {
      times.push(performance.now() - a);
      cpu.push(cpuMs() - c);
    }
  }
  await rt.dispose();
  return { nodes: s.program.runtimeNodeCount, times, cpu, sessionMs };
}

/** Kernel time per op type of native steps (onnxruntime's profiler), ms per step, largest first. */
async function nativeProfile(s: BenchStep, runs: number, warmup: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
  try {
    const rt = await ProgramRuntime.create({ ep: 'cpu', programs: [s.program], state: s.initialState, threads, profileFilePrefix: join(dir, s.network) });
    // Warm-up runs are profiled too (the profiler is on from the start) and left out of the times.
    for (let t = 1; t <= warmup + runs; t++) await rt.run('step', s.feeds(t));
    rt.endProfiling();
    await rt.dispose();
    const events = afterRuns(readProfile(join(dir, s.network)), warmup);
    const times = opTimes(events);
    const total = times.reduce((a, o) => a + o.ms, 0);
    const parts = Object.entries(partTimes(events)).map(([part, ms]) => [part, round(ms / runs)]);
    return {
      runs,
      kernelMsPerStep: round(total / runs),
      msPerPart: Object.fromEntries(parts),
      backwardByOp: opTimes(events.filter((e) => e.name?.startsWith('grad/'))).map((o) => ({ op: o.op, msPerStep: round(o.ms / runs), nodes: o.count / runs })),
      kernelsPerStep: times.reduce((a, o) => a + o.count, 0) / runs,
      byOp: times.map((o) => ({ op: o.op, msPerStep: round(o.ms / runs), share: Math.round((1000 * o.ms) / total) / 1000, nodes: o.count / runs })),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The timing fields of a row from all timed steps of its runs. */
function timing(times: number[], sessionMs: number) {
  return { msPerStep: round(median(times)), msMin: round(Math.min(...times)), msPerStepAll: times.map(round), sessionMs: round(sessionMs) };
}

/**
 * Node count per op type of a compiled step (all nodes in the model, weight-only ones too), and how many
 * single-consumer Reshape→Reshape / Transpose→Transpose pairs are left (chains a peephole pass would merge).
 */
function stepOps(s: BenchStep) {
  const nodes = onnxProto.onnx.ModelProto.decode(s.program.model).graph!.node!;
  const producer = new Map<string, string>();
  const uses = new Map<string, number>();
  const byOp: Record<string, number> = {};
  for (const n of nodes) {
    for (const o of n.output ?? []) producer.set(o, n.opType!);
    for (const i of n.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);
    byOp[n.opType!] = (byOp[n.opType!] ?? 0) + 1;
  }
  const chains = (op: string) => nodes.filter((n) => n.opType === op && producer.get(n.input![0]!) === op && uses.get(n.input![0]!) === 1).length;
  return {
    nodes: nodes.length,
    runtimeNodes: s.program.runtimeNodeCount,
    byOp: Object.fromEntries(Object.entries(byOp).sort((a, b) => b[1] - a[1])),
    mergeableChains: { 'Reshape→Reshape': chains('Reshape'), 'Transpose→Transpose': chains('Transpose') },
  };
}

const gflops = (s: { forwardFlops: number }, ms: number) => sig((TRAIN_FLOP_FACTOR * s.forwardFlops) / ms / 1e6);

/**
 * Runs each request `rounds` times, interleaved (A B C A B C …), so that load from other processes
 * spreads over all variants instead of favouring whichever ran in a quiet moment.
 */
async function browserRuns(page: Page, requests: HarnessRequest[], limitMs: number, rounds = 1): Promise<Row[]> {
  const runs: { result?: HarnessResult; times: number[]; error?: string }[] = requests.map(() => ({ times: [] }));
  for (let pass = 0; pass < rounds; pass++) {
    for (const [i, req] of requests.entries()) {
      const acc = runs[i]!;
      if (acc.error) continue;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const r = await Promise.race([
          page.evaluate((q) => window.engineHarness.runTrainStep(q), req),
          new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no result within ${limitMs / 1000} s`)), limitMs))),
        ]);
        acc.result ??= r;
        acc.times.push(...r.msPerStep);
      } catch (e) {
        acc.error = (e as Error).message.split('\n')[0];
        // A timed-out run keeps going in the page: start the next one in a fresh page.
        await page.reload();
        await page.waitForFunction(() => document.body.dataset.ready === 'true');
      } finally {
        // A pending timer would keep the process alive for up to limitMs after the JSON is printed.
        clearTimeout(timer);
      }
    }
  }
  return requests.map((req, i) => {
    const { result, times, error } = runs[i]!;
    const row: Row = {
      network: req.network,
      ep: req.ep,
      where: 'chromium',
      optimizer: req.optimizer ?? 'flat',
      io: req.io ?? 'ort',
      nodes: result?.nodeCount ?? NaN,
      ...(result ? timing(times, result.createMs) : {}),
      ...(result?.backend.adapter
        ? { adapter: `${result.backend.adapter.vendor} ${result.backend.adapter.architecture} ${result.backend.adapter.description}`.trim() }
        : {}),
      ...(error ? { error } : {}),
    };
    process.stderr.write(`  ${JSON.stringify(row)}\n`);
    return row;
  });
}

async function browser(): Promise<{ rows: Row[]; chromium: string }> {
  const { value: rows, chromium } = await withHarnessPage('engine', PORT, async (page) => {
    const rows: Row[] = [];
    if (networks.includes('tiny')) {
      const tiny = (r: Partial<HarnessRequest>): HarnessRequest => ({ network: 'tiny', ep: 'webgpu', steps, warmup: 2, ...r });
      const levers = [tiny({ ep: 'wasm' }), tiny({}), tiny({ io: 'gpu' }), tiny({ io: 'capture' }), tiny({ optimizer: 'per-parameter' })];
      rows.push(...(await browserRuns(page, levers, 300_000, rounds)));
    }
    if (networks.includes('reference')) {
      rows.push(...(await browserRuns(page, [{ network: 'reference', ep: 'webgpu', steps: 2, warmup: 1 }], 300_000)));
    }
    if (networks.includes('unet')) {
      rows.push(...(await browserRuns(page, [{ network: 'unet', ep: 'webgpu', steps: 1, warmup: 1 }], 540_000)));
    }
    return rows;
  });
  return { rows, chromium };
}

const rows: Row[] = [];
const descriptions: Record<string, string> = {};
const flops: Record<string, unknown> = {};
const profiles: Record<string, unknown> = {};
const ops: Record<string, unknown> = {};
const stepFlops: Partial<Record<NetworkName, { forwardFlops: number }>> = {};
for (const n of networks) {
  const big = BIG.includes(n);
  const s = buildStep(n);
  descriptions[n] = `${s.description}; ${s.trainable} trainable values`;
  stepFlops[n] = s;
  ops[n] = stepOps(s);
  flops[n] = {
    forwardGflop: sig(s.forwardFlops / 1e9),
    forwardGflopPerSample: sig(s.forwardFlops / 1e9 / s.batch),
    trainStepGflopEstimate: sig((TRAIN_FLOP_FACTOR * s.forwardFlops) / 1e9),
  };
  const variants = n === 'tiny' || n === 'reference' ? (['flat', 'per-parameter'] as const) : (['flat'] as const);
  const runs = eps.flatMap((ep) => variants.map((optimizer) => ({ ep, optimizer })));
  const acc = runs.map(() => ({ nodes: 0, times: [] as number[], cpu: [] as number[], sessionMs: 0 }));
  for (let r = 0; r < (variants.length > 1 ? rounds : 1); r++) {
    for (const [i, { ep, optimizer }] of runs.entries()) {
      const step = optimizer === 'flat' ? s : buildStep(n, optimizer);
      const run = await nodeRun(step, ep, big ? bigSteps : steps, big ? bigWarmup : 2);
      const a = acc[i]!;
      acc[i] = { nodes: run.nodes, times: [...a.times, ...run.times], cpu: [...a.cpu, ...run.cpu], sessionMs: a.sessionMs || run.sessionMs };
    }
  }
  runs.forEach(({ ep, optimizer }, i) => {
    const a = acc[i]!;
    const t = timing(a.times, a.sessionMs);
    rows.push({
      network: n,
      ep,
      where: 'node',
      optimizer,
      nodes: a.nodes,
      ...t,
      cpuMsMin: round(Math.min(...a.cpu)),
      ...(optimizer === 'flat' ? { gflopsPerS: gflops(s, t.msMin) } : {}),
    });
    process.stderr.write(`  ${JSON.stringify(rows[rows.length - 1])}\n`);
  });
  if (big && eps.includes('cpu') && !flag('no-profile')) {
    profiles[n] = await nativeProfile(s, 2, bigWarmup);
    process.stderr.write(`  profile ${n}: ${JSON.stringify(profiles[n]).slice(0, 400)}\n`);
  }
}
// A browser failure (no Chromium, port taken) still prints the Node rows, with the reason.
let browserError: string | undefined;
const web = flag('no-browser')
  ? null
  : await browser().catch((e: Error) => {
      browserError = e.message.split('\n')[0];
      return null;
    });
if (web) {
  for (const r of web.rows) if (r.msMin && stepFlops[r.network]) r.gflopsPerS = gflops(stepFlops[r.network]!, r.msMin);
  rows.push(...web.rows);
}

console.log(
  JSON.stringify(
    {
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, chromium: web?.chromium },
      ...(browserError ? { browserError } : {}),
      threads,
      timedSteps: { small: steps, big: bigSteps, bigWarmup, bigNetworks: BIG },
      rounds,
      networks: descriptions,
      note:
        'ep cpu = onnxruntime-node native CPU EP, wasm = onnxruntime-web wasm EP (Node rows: same graph bytes, same thread count), webgpu = onnxruntime-web in Chromium; ' +
        'nodes = nodes that run each step (frozen-weight-only nodes constant-fold); msPerStep / msMin: median / fastest of the timed steps after warm-up, loss read-back included; ' +
        'cpuMsMin: process CPU time of the fastest step (all threads); gflopsPerS: estimated train-step FLOPs / msMin',
      flops: {
        note: `forward FLOPs counted from the Conv/ConvTranspose/Gemm/MatMul node shapes of the forward graph (2 per multiply-add; norms, activations, softmax left out); train step = ${TRAIN_FLOP_FACTOR}× forward, an estimate: right when every weight trains, high for LoRA steps, whose frozen weights get no weight gradient (~2×)`,
        ...flops,
      },
      stepOps: {
        note: 'node count per op type of each compiled flat step (weight-only nodes included; runtimeNodes: those that run each step), and single-consumer chains a peephole pass could merge',
        ...ops,
      },
      nativeProfile: {
        note: "onnxruntime's profiler on the native CPU EP (session enableProfiling), kernel time of each node summed per op type over the profiled steps (after --big-warmup steps, not counted) and divided by their number; share of all kernel time; nodes: executions per step, after onnxruntime's graph optimizations (fused ops appear under their fused names); kernelsPerStep vs stepOps.runtimeNodes: what onnxruntime's own CPU fusions and eliminations remove; msPerPart: kernel ms per step of the backward pass (grad/ nodes), the optimizer (adamw/ nodes) and the rest (forward pass, loss, parameter unflattening); backwardByOp: the backward pass's kernel ms per op type",
        ...profiles,
      },
      load: loadavg().map(round),
      results: rows,
    },
    null,
    2,
  ),
);
