/**
 * `npm run bench:conv-grad`: convolution gradients, old formulations vs the current choice by shape, on
 * onnxruntime-node's CPU EP and the wasm EP in Node; JSON on stdout. Whole train steps (all weights train, AdamW,
 * clipping) of the built-in VAE (encode → decode reconstruction, B=8, 64×64) and UNet (B=32), old and new
 * interleaved on each runtime; then every distinct Conv shape of both models with its weight and input gradient
 * alone, per formulation (wasm EP only).
 *
 * Options: --what=vae,unet,shapes --eps=cpu,wasm (default both; cpu = onnxruntime-node) --steps=N (timed steps
 * per run, default 3) --warmup=N (untimed steps before them, default 4) --rounds=N (default 1) --threads=N (threads
 * of either runtime, default 1). Each step's minor page faults are reported: the first steps of a process fault in
 * the memory onnxruntime and V8 grow into (the native EP's first two UNet steps: ~130,000 each), so with one
 * warm-up step the timed steps still include some of that growth.
 */
import { convGradFormulation, convInputGrad, convWeightGrad } from '../src/engine/autodiff/convGrad';
import { GraphBuilder, attrInts, type Tensor } from '../src/engine/graph';
import { createWasmSession, feedsFor } from '../src/engine/graph/runWasm';
import { compileTrainStep } from '../src/engine/optim/trainStep';
import { ProgramRuntime } from '../src/engine/runtime/programRuntime';
import { cpus, loadavg } from 'node:os';
import * as ort from 'onnxruntime-web';
import { option } from './harness-page';
import { UNET_FULL_BATCH, VAE_BATCH, unetFullLossGraph, vaeLossGraph, type LossGraph } from './networks';

type Formulation = Pick<typeof convGradFormulation, 'weight' | 'input'>;
/** The Conv gradients before im2col (image-sized-kernel Conv for dW, ConvTranspose for dX) vs the product's choice by shape. */
const STEPS: Record<string, Formulation> = { old: { weight: 'conv', input: 'convTranspose' }, new: { weight: 'byShape', input: 'byShape' } };
// One thread by default: CPU time then measures the work itself, which wall time on a shared machine does not.
const threads = Number(option('threads', '1'));
const steps = Number(option('steps', '3'));
const warmup = Number(option('warmup', '4'));
const rounds = Number(option('rounds', '1'));
const what = option('what', 'shapes,vae,unet').split(',');
const eps = option('eps', 'cpu,wasm').split(',') as ('cpu' | 'wasm')[];
const wave = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (x: number) => Math.round(x * 10) / 10;

type Net = LossGraph;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Timed {
  wall: number[];
  cpu: number[];
  /** Minor page faults per timed step: memory touched for the first time, or again after being returned to the OS. */
  faults: number[];
  /** The same for each warm-up step. */
  warmupFaults: number[];
}

async function trainStep(make: () => Net, f: Formulation, ep: 'cpu' | 'wasm'): Promise<Timed & { nodes: number; losses: number[] }> {
  Object.assign(convGradFormulation, f);
  const net = make();
  const c = compileTrainStep(net.graph, net.loss, { adamw: { weightDecay: 0.01 } });
  const rt = await ProgramRuntime.create({ ep, programs: [c.step], state: c.initialState, threads });
  const timed: Timed = { wall: [], cpu: [], faults: [], warmupFaults: [] };
  const losses: number[] = [];
  for (let t = 1; t <= warmup + steps; t++) {
    const [a, b, c] = [performance.now(), cpuMs(), process.resourceUsage().minorPageFault];
    const { metrics } = await rt.run('step', { ...net.feeds, lr: 1e-4, step: t, max_grad_norm: 1 });
    if (t > warmup) {
      timed.wall.push(r1(performance.now() - a));
      timed.cpu.push(r1(cpuMs() - b));
      timed.faults.push(process.resourceUsage().minorPageFault - c);
    } else timed.warmupFaults.push(process.resourceUsage().minorPageFault - c);
    losses.push(metrics[0]!);
  }
  await rt.dispose();
  return { ...timed, nodes: c.step.nodeCount, losses };
}

/** Every distinct Conv of a forward graph: input, weight and attributes. */
function convShapes(net: Net) {
  const seen = new Map<string, { x: number[]; w: number[]; strides: number[]; pads: number[]; count: number }>();
  for (const n of net.graph.nodes) {
    if (n.op !== 'Conv') continue;
    const ints = (k: string) => [...attrInts(n, k)];
    const s = { x: [...n.inputs[0]!.shape], w: [...n.inputs[1]!.shape], strides: ints('strides'), pads: ints('pads') };
    const key = JSON.stringify(s);
    const hit = seen.get(key);
    if (hit) hit.count++;
    else seen.set(key, { ...s, count: 1 });
  }
  return [...seen.values()];
}

/** CPU ms of one run (fastest of 3 after a warm-up). */
async function timeGraph(g: GraphBuilder, feeds: Record<string, Float32Array>): Promise<number> {
  const session = await createWasmSession(g);
  const f = feedsFor(g, feeds);
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    const a = cpuMs();
    await session.run(f);
    if (i > 0) times.push(cpuMs() - a);
  }
  await session.release();
  return r1(Math.min(...times));
}

/** CPU ms of one Conv's weight gradient and input gradient alone, per formulation. */
async function shapeRow(s: ReturnType<typeof convShapes>[number]) {
  const row: Record<string, unknown> = { x: s.x, w: s.w, strides: s.strides, pads: s.pads, count: s.count };
  const geom = { strides: s.strides, pads: s.pads, dilations: [1, 1], group: 1 };
  const graph = (grad: (g: GraphBuilder, x: Tensor, w: Tensor, dy: Tensor) => Tensor) => {
    const g = new GraphBuilder('grad');
    const x = g.input('x', 'float32', s.x);
    const w = g.input('w', 'float32', s.w);
    const dy = g.input('dy', 'float32', g.conv(x, w, null, { strides: s.strides, pads: s.pads }).shape);
    g.output(grad(g, x, w, dy), 'grad');
    return { g, feeds: { x: wave(x.size, 1), w: wave(w.size, 2), dy: wave(dy.size, 3) } };
  };
  const stride1 = s.strides.every((v) => v === 1);
  // Each formulation's op sequence, to name the one the product's choice by shape builds.
  const opsOf = (g: GraphBuilder) => g.nodes.map((n) => n.op).join();
  const formulationOps = new Map<string, string>();
  for (const weight of stride1 ? (['conv', 'im2col', 'shifts'] as const) : (['conv', 'im2col'] as const)) {
    Object.assign(convGradFormulation, { weight });
    const { g, feeds } = graph((g, x, _w, dy) => convWeightGrad(g, x, dy, s.w.slice(2), geom));
    formulationOps.set(opsOf(g), weight);
    row[`dW ${weight} ms`] = await timeGraph(g, feeds);
  }
  for (const input of ['convTranspose', 'byShape'] as const) {
    Object.assign(convGradFormulation, { input });
    const { g, feeds } = graph((g, x, w, dy) => convInputGrad(g, dy, w, x, geom));
    row[`dX ${input} ms`] = await timeGraph(g, feeds);
    if (input === 'byShape') row.dXChosen = g.nodes.some((n) => n.op === 'ConvTranspose') ? 'convTranspose' : 'flipped-weight conv';
  }
  Object.assign(convGradFormulation, STEPS.new);
  row.dWChosen = formulationOps.get(opsOf(graph((g, x, _w, dy) => convWeightGrad(g, x, dy, s.w.slice(2), geom)).g));
  return row;
}

ort.env.wasm.numThreads = threads;
const out: Record<string, unknown> = {
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  threads,
  timedSteps: steps,
  warmupSteps: warmup,
  rounds,
  note: 'cpu = onnxruntime-node CPU EP, wasm = onnxruntime-web wasm EP, same graph bytes, same thread count; old = dW as one Conv with the image-sized dy as kernel and dX as ConvTranspose; new = the choice by shape in src/engine/autodiff/convGrad.ts. cpuMs: process CPU time (with 1 wasm thread: the work itself, whatever else loads the machine), wallMs: elapsed; per step: median / fastest timed step after the warm-up steps, rounds interleaved; byRound: median wall ms of old and new within each round (old and new back to back, old first in even rounds); faultsPerStep: median minor page faults of a timed step; warmupFaults: those of each warm-up step, per round; shapes: CPU ms, fastest of 3 runs of the gradient alone, count = Convs of that shape in the model (wasm EP only); newCpuOverWasm: wasm CPU time / native CPU time of the new step',
  loadBefore: loadavg().map(r1),
};
const nets: Record<string, () => Net> = { vae: () => vaeLossGraph(VAE_BATCH), unet: () => unetFullLossGraph(UNET_FULL_BATCH) };
for (const [name, make] of Object.entries(nets)) {
  if (!what.includes(name)) continue;
  const runs = eps.flatMap((ep) => Object.keys(STEPS).map((k) => ({ ep, k, key: `${ep} ${k}` })));
  const acc = Object.fromEntries(
    runs.map((r) => [
      r.key,
      {
        wall: [] as number[],
        wallByRound: [] as number[][],
        cpu: [] as number[],
        faults: [] as number[],
        warmupFaults: [] as number[][],
        nodes: 0,
        losses: [] as number[],
      },
    ]),
  );
  for (let r = 0; r < rounds; r++) {
    // Old first in even rounds, new first in odd ones, so that drift within a round does not favour one of them.
    for (const { ep, k, key } of r % 2 ? [...runs].reverse() : runs) {
      const res = await trainStep(make, STEPS[k]!, ep);
      const a = acc[key]!;
      acc[key] = {
        wall: [...a.wall, ...res.wall],
        wallByRound: [...a.wallByRound, res.wall],
        cpu: [...a.cpu, ...res.cpu],
        faults: [...a.faults, ...res.faults],
        warmupFaults: [...a.warmupFaults, res.warmupFaults],
        nodes: res.nodes,
        losses: res.losses,
      };
      process.stderr.write(`${name} ${key} ${JSON.stringify(res)}\n`);
    }
  }
  const stat = (key: string) => {
    const a = acc[key]!;
    return {
      cpuMsPerStep: r1(median(a.cpu)),
      cpuMsMin: r1(Math.min(...a.cpu)),
      wallMsPerStep: r1(median(a.wall)),
      wallMsMin: r1(Math.min(...a.wall)),
      faultsPerStep: median(a.faults),
      warmupFaults: a.warmupFaults,
      nodes: a.nodes,
      losses: a.losses,
    };
  };
  const ratio = (a: number[], b: number[], f: (xs: number[]) => number) => Math.round((100 * f(a)) / f(b)) / 100;
  const min = (xs: number[]) => Math.min(...xs);
  const row: Record<string, unknown> = { description: make().description };
  for (const ep of eps) {
    const [o, n] = [acc[`${ep} old`]!.cpu, acc[`${ep} new`]!.cpu];
    const [ow, nw] = [acc[`${ep} old`]!.wall, acc[`${ep} new`]!.wall];
    row[ep] = {
      old: stat(`${ep} old`),
      new: stat(`${ep} new`),
      cpuSpeedup: { median: ratio(o, n, median), min: ratio(o, n, min) },
      wallSpeedup: { median: ratio(ow, nw, median), min: ratio(ow, nw, min) },
      // Old and new run back to back within a round; this machine's speed drifts between rounds.
      byRound: acc[`${ep} old`]!.wallByRound.map((o, r) => {
        const n = acc[`${ep} new`]!.wallByRound[r]!;
        return { oldWallMs: r1(median(o)), newWallMs: r1(median(n)), wallSpeedup: ratio(o, n, median) };
      }),
    };
  }
  if (eps.length === 2) {
    const [w, c] = [acc['wasm new']!.cpu, acc['cpu new']!.cpu];
    row.newCpuOverWasm = { median: ratio(w, c, median), min: ratio(w, c, min) };
  }
  out[name] = row;
}
if (what.includes('shapes')) {
  for (const [name, make] of Object.entries(nets)) {
    const rows: Record<string, unknown>[] = [];
    for (const s of convShapes(make())) {
      rows.push(await shapeRow(s));
      process.stderr.write(`${name} ${JSON.stringify(rows[rows.length - 1])}\n`);
    }
    const total = (key: string) => r1(rows.reduce((a, r) => a + (r[key] as number) * (r.count as number), 0));
    out[`${name}Shapes`] = {
      totalMs: {
        'dW conv': total('dW conv ms'),
        'dW im2col': total('dW im2col ms'),
        'dW chosen (shifts at stride 1)': r1(rows.reduce((a, r) => a + (r[`dW ${r.dWChosen as string} ms`] as number) * (r.count as number), 0)),
        'dX convTranspose': total('dX convTranspose ms'),
        'dX byShape': total('dX byShape ms'),
      },
      rows,
    };
  }
}
out.loadAfter = loadavg().map(r1);
console.log(JSON.stringify(out, null, 2));
