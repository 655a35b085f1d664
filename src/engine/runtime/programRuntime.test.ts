import { describe, expect, test } from 'vitest';
import { GraphBuilder } from '../graph';
import { serializeGraph } from '../graph/serialize';
import { STATE, compileTrainStep } from '../optim/trainStep';
import { referenceBatch, referenceBlock, TINY_BLOCK } from './testing/referenceBlock';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterRuns, opTimes, partTimes, readProfile } from './nativeProfile';
import { ProgramRuntime } from './programRuntime';

const cfg = { ...TINY_BLOCK, trainNonAttention: true };
const block = referenceBlock(cfg);
const compiled = compileTrainStep(block.graph, block.loss, { adamw: { weightDecay: 0.01 } });
const batch = referenceBatch(cfg);
const feeds = (step: number) => ({ ...batch, lr: 3e-3, step, max_grad_norm: 1 });

describe('ProgramRuntime on the wasm EP', () => {
  test('the composite block (conv, GroupNorm, SiLU, attention with LoRA) overfits a fixed batch', async () => {
    const rt = await ProgramRuntime.create({ ep: 'wasm', programs: [compiled.step], state: compiled.initialState });
    expect(rt.backend).toMatchObject({ ep: 'wasm', kind: 'cpu' });
    const losses: number[] = [];
    for (let t = 1; t <= 40; t++) losses.push((await rt.run('step', feeds(t))).metrics![0]!);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[0]! / losses[39]!).toBeGreaterThan(20);
    await rt.dispose();
  });

  test('exported state restores training exactly where it was', async () => {
    const a = await ProgramRuntime.create({ ep: 'wasm', programs: [compiled.step], state: compiled.initialState });
    for (let t = 1; t <= 3; t++) await a.run('step', feeds(t));
    const saved = await a.exportState();
    expect(Object.keys(saved).sort()).toEqual([STATE.m, STATE.v, STATE.params].sort());
    const b = await ProgramRuntime.create({ ep: 'wasm', programs: [compiled.step], state: compiled.initialState });
    b.importState(saved);
    for (let t = 4; t <= 5; t++) {
      const [la, lb] = [(await a.run('step', feeds(t))).metrics![0], (await b.run('step', feeds(t))).metrics![0]];
      expect(lb).toBe(la);
    }
    // Exporting copies: changing the copy does not touch the runtime.
    const copy = await a.exportState();
    copy[STATE.params]!.fill(0);
    expect(Math.max(...(await a.exportState())[STATE.params]!.map(Math.abs))).toBeGreaterThan(0);
    await a.dispose();
    await b.dispose();
  });

  test('bad feeds and state are refused with the name and changes nothing', async () => {
    const rt = await ProgramRuntime.create({ ep: 'wasm', programs: [compiled.step], state: compiled.initialState });
    const before = await rt.exportState();
    await expect(rt.run('step', { ...feeds(1), lr: undefined as unknown as number })).rejects.toThrow(/needs feed lr \[\]/);
    await expect(rt.run('step', { ...feeds(1), x: new Float32Array(3) })).rejects.toThrow(/feed x has 3 values, expected 384 for \[2,3,8,8\]/);
    await expect(rt.run('step', { ...feeds(1), extra: 1 })).rejects.toThrow(/has no feed extra/);
    await expect(rt.run('nope', feeds(1))).rejects.toThrow(/no program nope \(have step\)/);
    expect(() => rt.importState({ [STATE.m]: new Float32Array(2) })).toThrow(/adam.m has 2 values, expected \d+/);
    expect(() => rt.importState({ bogus: new Float32Array(2) })).toThrow(/unknown state bogus/);
    expect(await rt.exportState()).toEqual(before);
    await rt.dispose();
    await expect(rt.run('step', feeds(1))).rejects.toThrow(/already disposed/);
    await expect(ProgramRuntime.create({ ep: 'wasm', programs: [compiled.step], state: {} })).rejects.toThrow(
      /reads state train.params, which has no initial value/,
    );
    await expect(ProgramRuntime.create({ ep: 'wasm', io: 'capture', programs: [compiled.step], state: compiled.initialState })).rejects.toThrow(
      /needs the webgpu EP/,
    );
  });

  test('shared state is read in place by another runtime: no copy, each update seen', async () => {
    const lender = await ProgramRuntime.create({ ep: 'wasm', programs: [compiled.step], state: compiled.initialState, shared: [STATE.params] });
    const n = compiled.layout.size;
    const g = new GraphBuilder('sum');
    g.output(g.reduceSum(g.input('values', 'float32', [n]), [0], false), 'total');
    const reader = { name: 'sum', model: serializeGraph(g), feeds: [], state: [{ name: 'values', output: null }], readback: ['total'] };
    const borrower = await ProgramRuntime.create({ ep: 'wasm', programs: [reader], state: { values: new Float32Array(n) } });
    const shared = lender.stateTensor(STATE.params);
    borrower.borrowState('values', shared);
    const total = async () => (await borrower.run('sum', {})).total![0]!;
    const sum = async () => (await lender.exportState([STATE.params]))[STATE.params]!.reduce((a, v) => a + v, 0);
    expect(await total()).toBeCloseTo(await sum(), 3);
    const before = await sum();
    await lender.run('step', feeds(1));
    // The same tensor, updated where it is: the borrower reads the step's parameters without being told.
    expect(lender.stateTensor(STATE.params)).toBe(shared);
    expect(await sum()).not.toBeCloseTo(before, 3);
    expect(await total()).toBeCloseTo(await sum(), 3);
    lender.importState({ [STATE.params]: compiled.initialState[STATE.params]! });
    expect(await total()).toBeCloseTo(before, 3);
    // State a program writes cannot be borrowed.
    expect(() => lender.borrowState(STATE.m, shared)).toThrow('borrowState: step updates adam.m; only state no program writes can be borrowed');
    await borrower.dispose();
    await lender.dispose();
  });

  test('a run that fails on one state output changes no state (checks come before any swap)', async () => {
    // The last state output does not exist: the ones before it must not have been swapped in already.
    const state = compiled.step.state.map((st, i, all) => (i === all.length - 1 ? { ...st, output: 'not_an_output' } : st));
    const rt = await ProgramRuntime.create({ ep: 'wasm', programs: [{ ...compiled.step, state }], state: compiled.initialState });
    const before = await rt.exportState();
    await expect(rt.run('step', feeds(1))).rejects.toThrow(/step did not return not_an_output/);
    expect(await rt.exportState()).toEqual(before);
    await rt.dispose();
  });
});

describe('ProgramRuntime on onnxruntime-node (native CPU EP)', () => {
  test('runs the same graph bytes as the wasm EP with the same losses, and says it ran natively', async () => {
    const native = await ProgramRuntime.create({ ep: 'cpu', threads: 2, programs: [compiled.step], state: compiled.initialState });
    const wasm = await ProgramRuntime.create({ ep: 'wasm', programs: [compiled.step], state: compiled.initialState });
    expect(native.backend).toEqual({ ep: 'cpu', kind: 'cpu', threads: 2 });
    for (let t = 1; t <= 5; t++) {
      const [a, b] = [(await native.run('step', feeds(t))).metrics!, (await wasm.run('step', feeds(t))).metrics!];
      expect(Math.abs(a[0]! - b[0]!)).toBeLessThan(1e-4 * Math.abs(b[0]!));
      expect(Math.abs(a[1]! - b[1]!)).toBeLessThan(1e-3 * Math.abs(b[1]!));
    }
    const [pa, pb] = [(await native.exportState())[STATE.params]!, (await wasm.exportState())[STATE.params]!];
    expect(pa.length).toBe(pb.length);
    expect(pa.some((v, i) => v !== compiled.initialState[STATE.params]![i])).toBe(true);
    await native.dispose();
    await wasm.dispose();
  });

  test('profiles every node of every run when asked, and the per-op-type times add up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'profile-'));
    try {
      const rt = await ProgramRuntime.create({
        ep: 'cpu',
        threads: 1,
        programs: [compiled.step],
        state: compiled.initialState,
        profileFilePrefix: join(dir, 'step'),
      });
      for (let t = 1; t <= 3; t++) await rt.run('step', feeds(t));
      rt.endProfiling();
      await rt.dispose();
      const all = readProfile(join(dir, 'step'));
      // The first run left out: a third of the kernel events, all of them earlier than every other.
      const events = afterRuns(all, 1);
      const allKernels = all.filter((e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time'));
      expect(events.filter((e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time')).length * 3).toBe(allKernels.length * 2);
      expect(Math.min(...events.map((e) => e.ts!))).toBeGreaterThan(Math.max(...allKernels.slice(0, allKernels.length / 3).map((e) => e.ts!)));
      expect(() => afterRuns(all, 3)).toThrow('the profile has 3 runs, 3 to skip');
      const ops = opTimes(events);
      const kernels = events.filter((e) => e.cat === 'Node' && e.name?.endsWith('_kernel_time'));
      expect(ops.map((o) => o.op)).toEqual(expect.arrayContaining(['Conv', 'MatMul']));
      expect(ops.reduce((a, o) => a + o.count, 0)).toBe(kernels.length);
      expect(ops.reduce((a, o) => a + o.ms, 0)).toBeCloseTo(kernels.reduce((a, e) => a + e.dur!, 0) / 1000, 6);
      for (let i = 1; i < ops.length; i++) expect(ops[i]!.ms).toBeLessThanOrEqual(ops[i - 1]!.ms);
      // The step's parts by name scope: each ran, and together they are every kernel.
      const parts = partTimes(events);
      for (const ms of Object.values(parts)) expect(ms).toBeGreaterThan(0);
      expect(parts.forward + parts.backward + parts.optimizer).toBeCloseTo(kernels.reduce((a, e) => a + e.dur!, 0) / 1000, 6);
      const sqrts = kernels.filter((e) => e.args?.op_name === 'Sqrt').map((e) => e.name!);
      expect(sqrts.length).toBeGreaterThan(0);
      expect(sqrts.every((n) => n.startsWith('adamw/'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('profiling is refused on the wasm EP', async () => {
    await expect(ProgramRuntime.create({ ep: 'wasm', programs: [compiled.step], state: compiled.initialState, profileFilePrefix: 'x' })).rejects.toThrow(
      /profiling needs ep 'cpu'/,
    );
  });
});
