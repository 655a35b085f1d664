/**
 * `npm run bench:conv-grad`: convolution gradients, old formulations vs the current choice by shape, on the
 * wasm EP in Node; JSON on stdout. Whole train steps (all weights train, AdamW, clipping) of the built-in VAE
 * (encode → decode reconstruction, B=8, 64×64) and UNet (B=32), rounds interleaved; then every distinct Conv
 * shape of both models with its weight and input gradient alone, per formulation.
 *
 * Options: --what=vae,unet,shapes --steps=N (timed steps per run, default 3) --rounds=N (default 1)
 * --threads=N (wasm threads, default 1).
 */
import vaeConfigJson from '../models/builtin/vae/config.json';
import unetConfigJson from '../models/builtin/unet/config.json';
import { convGradFormulation, convInputGrad, convWeightGrad } from '../src/engine/autodiff/convGrad';
import { GraphBuilder, attrInts, type Tensor } from '../src/engine/graph';
import { createWasmSession, feedsFor } from '../src/engine/graph/runWasm';
import { weightedMse } from '../src/engine/optim/loss';
import { compileTrainStep } from '../src/engine/optim/trainStep';
import { TrainRuntime } from '../src/engine/runtime/trainRuntime';
import { parseUNetConfig, parseVAEConfig } from '../src/model/config';
import { ModelParams } from '../src/model/params';
import { unetForward } from '../src/model/unet';
import { vaeDecode, vaeEncode } from '../src/model/vae';
import { cpus, loadavg } from 'node:os';
import * as ort from 'onnxruntime-web';
import { option } from './harness-page';

type Formulation = typeof convGradFormulation;
/** The Conv gradients before im2col (image-sized-kernel Conv for dW, ConvTranspose for dX) vs the product's choice by shape. */
const STEPS: Record<string, Formulation> = { old: { weight: 'conv', input: 'convTranspose' }, new: { weight: 'byShape', input: 'byShape' } };
// One thread by default: CPU time then measures the work itself, which wall time on a shared machine does not.
const threads = Number(option('threads', '1'));
const steps = Number(option('steps', '3'));
const rounds = Number(option('rounds', '1'));
const what = option('what', 'shapes,vae,unet').split(',');
const wave = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (x: number) => Math.round(x * 10) / 10;

interface Net { graph: GraphBuilder; loss: Tensor; batch: Record<string, Float32Array>; description: string }

function vaeNet(batch: number): Net {
  const c = parseVAEConfig(vaeConfigJson);
  const g = new GraphBuilder('vae');
  const p = new ModelParams(g, { kind: 'seeded', seed: 1 }, { group: () => 'trainable' });
  const x = g.input('sample', 'float32', [batch, c.in_channels, c.sample_size, c.sample_size]);
  const rec = vaeDecode(p, c, vaeEncode(p, c, x).mean);
  const loss = weightedMse(g, rec, x, g.input('sample_weight', 'float32', [batch]));
  return { graph: g, loss, batch: { sample: wave(x.size, 1), sample_weight: new Float32Array(batch).fill(1 / batch) }, description: `VAE encode→decode reconstruction, all weights train, B=${batch}` };
}

function unetNet(batch: number): Net {
  const c = parseUNetConfig(unetConfigJson);
  const g = new GraphBuilder('unet');
  const p = new ModelParams(g, { kind: 'seeded', seed: 1 }, { group: () => 'trainable' });
  const size = c.sample_size!;
  const sample = g.input('sample', 'float32', [batch, c.in_channels, size, size]);
  const timestep = g.input('timestep', 'float32', [batch]);
  const ehs = g.input('encoder_hidden_states', 'float32', [batch, 77, c.cross_attention_dim]);
  const out = unetForward(p, c, { sample, timestep, encoderHiddenStates: ehs });
  const target = g.input('target', 'float32', out.shape);
  const loss = weightedMse(g, out, target, g.input('sample_weight', 'float32', [batch]));
  return {
    graph: g,
    loss,
    batch: {
      sample: wave(sample.size, 1),
      timestep: Float32Array.from({ length: batch }, (_, i) => (37 * i) % 1000),
      encoder_hidden_states: wave(ehs.size, 2),
      target: wave(target.size, 3),
      sample_weight: new Float32Array(batch).fill(1 / batch),
    },
    description: `built-in UNet2DConditionModel, all weights train, B=${batch}`,
  };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Timed {
  wall: number[];
  cpu: number[];
}

async function trainStep(make: () => Net, f: Formulation): Promise<Timed & { nodes: number; losses: number[] }> {
  Object.assign(convGradFormulation, f);
  const net = make();
  const c = compileTrainStep(net.graph, net.loss, { adamw: { weightDecay: 0.01 } });
  const rt = await TrainRuntime.create({ ep: 'wasm', programs: [c.step], state: c.initialState, threads });
  const timed: Timed = { wall: [], cpu: [] };
  const losses: number[] = [];
  for (let t = 1; t <= 1 + steps; t++) {
    const [a, b] = [performance.now(), cpuMs()];
    const { metrics } = await rt.run('step', { ...net.batch, lr: 1e-4, step: t, max_grad_norm: 1 });
    if (t > 1) {
      timed.wall.push(r1(performance.now() - a));
      timed.cpu.push(r1(cpuMs() - b));
    }
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
  for (const weight of ['conv', 'im2col'] as const) {
    Object.assign(convGradFormulation, { weight });
    const { g, feeds } = graph((g, x, _w, dy) => convWeightGrad(g, x, dy, s.w.slice(2), geom));
    row[`dW ${weight} ms`] = await timeGraph(g, feeds);
  }
  for (const input of ['convTranspose', 'byShape'] as const) {
    Object.assign(convGradFormulation, { input });
    const { g, feeds } = graph((g, x, w, dy) => convInputGrad(g, dy, w, x, geom));
    row[`dX ${input} ms`] = await timeGraph(g, feeds);
    if (input === 'byShape') row.dXChosen = g.nodes.some((n) => n.op === 'ConvTranspose') ? 'convTranspose' : 'flipped-weight conv';
  }
  Object.assign(convGradFormulation, STEPS.new);
  row.dWChosen = graph((g, x, _w, dy) => convWeightGrad(g, x, dy, s.w.slice(2), geom)).g.nodes.some((n) => n.op === 'MatMul') ? 'im2col' : 'conv';
  return row;
}

ort.env.wasm.numThreads = threads;
const out: Record<string, unknown> = {
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  wasmThreads: threads,
  timedSteps: steps,
  rounds,
  note: 'old = dW as one Conv with the image-sized dy as kernel and dX as ConvTranspose; new = the choice by shape in src/engine/autodiff/convGrad.ts. cpuMs: process CPU time (with 1 wasm thread: the work itself, whatever else loads the machine), wallMs: elapsed; per step: median / fastest timed step after one warm-up, rounds interleaved; shapes: CPU ms, fastest of 3 runs of the gradient alone, count = Convs of that shape in the model',
  loadBefore: loadavg().map(r1),
};
const nets: Record<string, () => Net> = { vae: () => vaeNet(8), unet: () => unetNet(32) };
for (const [name, make] of Object.entries(nets)) {
  if (!what.includes(name)) continue;
  const acc = Object.fromEntries(Object.keys(STEPS).map((k) => [k, { wall: [] as number[], cpu: [] as number[], nodes: 0, losses: [] as number[] }]));
  for (let r = 0; r < rounds; r++) {
    for (const [k, f] of Object.entries(STEPS)) {
      const res = await trainStep(make, f);
      acc[k] = { wall: [...acc[k]!.wall, ...res.wall], cpu: [...acc[k]!.cpu, ...res.cpu], nodes: res.nodes, losses: res.losses };
      process.stderr.write(`${name} ${k} ${JSON.stringify(res)}\n`);
    }
  }
  const stat = (k: string) => {
    const a = acc[k]!;
    return { cpuMsPerStep: r1(median(a.cpu)), cpuMsMin: r1(Math.min(...a.cpu)), wallMsPerStep: r1(median(a.wall)), wallMsMin: r1(Math.min(...a.wall)), nodes: a.nodes, losses: a.losses };
  };
  const speedup = (f: (xs: number[]) => number) => Math.round((100 * f(acc.old!.cpu)) / f(acc.new!.cpu)) / 100;
  out[name] = { description: make().description, old: stat('old'), new: stat('new'), cpuSpeedup: { median: speedup(median), min: speedup((xs) => Math.min(...xs)) } };
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
      totalMs: { 'dW conv': total('dW conv ms'), 'dW im2col': total('dW im2col ms'), 'dX convTranspose': total('dX convTranspose ms'), 'dX byShape': total('dX byShape ms') },
      rows,
    };
  }
}
out.loadAfter = loadavg().map(r1);
console.log(JSON.stringify(out, null, 2));
