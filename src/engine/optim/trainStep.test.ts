import { describe, expect, test } from 'vitest';
import { GraphBuilder, MAX_BINDING_WAYS } from '../graph';
import { runGraph } from '../graph/runWasm';
import { makeRng } from '../graph/testing';
import { ProgramRuntime } from '../runtime/programRuntime';
import { referenceBatch, referenceBlock, TINY_BLOCK, type ReferenceBlockConfig } from '../runtime/testing/referenceBlock';
import { makeLayout, packParams, splitFlat, unpackParams } from './flatParams';
import { priorPreservationWeights, weightedMse } from './loss';
import { STATE, compileTrainStep } from './trainStep';
import onnxProto from 'onnx-proto';

/** Op and input/output counts of every node of a serialized model. */
function nodesOf(model: Uint8Array) {
  return onnxProto.onnx.ModelProto.decode(model).graph!.node!.map((n) => ({ op: n.opType!, inputs: n.input!.length, outputs: n.output!.length }));
}

const BLOCK: ReferenceBlockConfig = { ...TINY_BLOCK, trainNonAttention: true };
const hyper = { lr: 1e-2, step: 1, max_grad_norm: 1e9 };

describe('train-step compilation', () => {
  test('the flat-parameter gradient of every parameter (convs, norm, LoRA A and B) matches central finite differences', async () => {
    const blk = referenceBlock(BLOCK);
    const c = compileTrainStep(blk.graph, blk.loss, { accumulation: true });
    const batch = referenceBatch(BLOCK);
    // LoRA B starts at zero, which makes A's gradient zero: start B elsewhere so both are exercised.
    const rng = makeRng(5);
    const base = c.initialState[STATE.params]!.slice();
    const loraB = c.layout.entries.filter((e) => e.name.endsWith('lora_B.weight'));
    expect(loraB.length).toBe(4);
    for (const e of loraB) base.set(rng.randn(e.size, 0.5), e.offset);
    const rt = await ProgramRuntime.create({ ep: 'wasm', programs: [c.accumulate!], state: { ...c.initialState, [STATE.params]: base } });
    await rt.run('accumulate', batch);
    const grad = (await rt.exportState())[STATE.accum]!;
    const lossAt = async (p: Float32Array) => {
      rt.importState({ [STATE.params]: p, [STATE.accum]: new Float32Array(p.length) });
      return (await rt.run('accumulate', batch)).metrics![0]!;
    };
    const groups = new Set(c.layout.entries.map((e) => e.name.replace(/^.*\.(lora_[AB])\.weight$/, '$1').replace(/^(conv_\w+|norm)\..*$/, '$1')));
    expect([...groups].sort()).toEqual(expect.arrayContaining(['conv_down', 'conv_in', 'conv_out', 'lora_A', 'lora_B', 'norm']));
    // Per parameter: a random ±1 direction over all of it, and its largest gradient coordinate. The loss is a
    // float32 read-back, so the central difference carries ~1e-6 of noise (h = 1e-2): a relative tolerance
    // of 3 % on top of that floor still fails a gradient that is zero, halved or of the wrong sign.
    const h = 1e-2;
    const probes: string[] = [];
    for (const e of c.layout.entries) {
      const g = grad.subarray(e.offset, e.offset + e.size);
      let top = 0;
      g.forEach((v, i) => void (Math.abs(v) > Math.abs(g[top]!) && (top = i)));
      const coord = new Float32Array(e.size);
      coord[top] = 1;
      for (const [label, dir] of [
        ['direction', Float32Array.from(g, () => (rng.uniform() < 0.5 ? -1 : 1))],
        [`[${top}]`, coord],
      ] as const) {
        const plus = base.slice();
        const minus = base.slice();
        dir.forEach((d, i) => {
          plus[e.offset + i]! += h * d;
          minus[e.offset + i]! -= h * d;
        });
        const fd = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * h);
        const analytic = g.reduce((acc, v, i) => acc + v * dir[i]!, 0);
        expect(Math.abs(analytic), `${e.name} ${label}: the probe must see a gradient`).toBeGreaterThan(2e-5);
        expect(Math.abs(analytic - fd), `${e.name} ${label}: graph ${analytic} vs fd ${fd}`).toBeLessThan(2e-6 + 3e-2 * Math.abs(fd));
        probes.push(e.name);
      }
    }
    expect(new Set(probes).size).toBe(c.layout.entries.length);
    await rt.dispose();
  });

  test('accumulating two micro-batches of 1 then applying equals one step on the batch of 2', async () => {
    // Adam's eps is raised so that the comparison is well conditioned: with eps = 1e-8 a gradient
    // component near 0 is normalized to ±1 and float32 summation order decides its sign.
    const adamw = { weightDecay: 0.01, eps: 1e-4 };
    const full = referenceBlock(BLOCK);
    const micro = referenceBlock({ ...BLOCK, batch: 1 });
    const cFull = compileTrainStep(full.graph, full.loss, { adamw, accumulation: true });
    const cMicro = compileTrainStep(micro.graph, micro.loss, { adamw, accumulation: true });
    expect(cMicro.initialState[STATE.params]).toEqual(cFull.initialState[STATE.params]);
    const batch = referenceBatch(BLOCK); // sample_weight = [0.5, 0.5]: the mean loss over the batch
    const half = (i: number) => {
      const cut = (t: Float32Array) => t.slice((i * t.length) / 2, ((i + 1) * t.length) / 2);
      return { x: cut(batch.x), target: cut(batch.target), sample_weight: new Float32Array([1]) };
    };

    const a = await ProgramRuntime.create({ ep: 'wasm', programs: [cFull.step, cFull.accumulate!], state: cFull.initialState });
    const b = await ProgramRuntime.create({ ep: 'wasm', programs: [cMicro.accumulate!, cMicro.apply!], state: cMicro.initialState });
    for (let step = 1; step <= 3; step++) {
      // The batch gradient, through the full-batch accumulate program.
      a.importState({ [STATE.accum]: new Float32Array(cFull.layout.size) });
      await a.run('accumulate', batch);
      const fullGrad = (await a.exportState())[STATE.accum]!;
      const [loss, norm] = (await a.run('step', { ...batch, ...hyper, step })).metrics!;

      let microLoss = 0;
      for (let i = 0; i < 2; i++) microLoss += (await b.run('accumulate', half(i))).metrics![0]!;
      const summed = (await b.exportState())[STATE.accum]!;
      summed.forEach((x, j) => expect(Math.abs(x / 2 - fullGrad[j]!)).toBeLessThan(1e-6 + 1e-4 * Math.abs(fullGrad[j]!)));
      const [microNorm] = (await b.run('apply', { ...hyper, step, grad_scale: 0.5 })).metrics!;
      expect(microLoss / 2).toBeCloseTo(loss!, 5);
      expect(microNorm).toBeCloseTo(norm!, 5);
      const [pa, pb] = [(await a.exportState())[STATE.params]!, (await b.exportState())[STATE.params]!];
      pa.forEach((x, j) => expect(Math.abs(x - pb[j]!)).toBeLessThan(1e-5));
      expect(Math.max(...(await b.exportState())[STATE.accum]!.map(Math.abs))).toBe(0);
    }
    // The parameters did move (the comparison above is not between two untouched copies).
    const moved = (await a.exportState())[STATE.params]!.map((x, j) => Math.abs(x - cFull.initialState[STATE.params]![j]!));
    expect(Math.max(...moved)).toBeGreaterThan(1e-2);
    await a.dispose();
    await b.dispose();
  });

  test('no Split or Concat exceeds the WebGPU storage-buffer limit, and the optimizer adds a fixed number of nodes', () => {
    const optimizerNodes = [8, 60].map((n) => {
      const g = new GraphBuilder('many');
      const x = g.input('x', 'float32', [2]);
      let acc = g.reduceSum(x, [0], false);
      for (let i = 0; i < n; i++) acc = g.add(acc, g.reduceSum(g.mul(g.param(`p${i}`, [3], new Float32Array([1, 2, 3])), x.size), [0], false));
      const c = compileTrainStep(g, acc, { accumulation: true });
      for (const node of nodesOf(c.step.model)) {
        if (node.op === 'Split') expect(node.outputs).toBeLessThanOrEqual(MAX_BINDING_WAYS);
        if (node.op === 'Concat') expect(node.inputs).toBeLessThanOrEqual(MAX_BINDING_WAYS);
      }
      // step = forward + backward + AdamW; accumulate = forward + backward + one Add.
      return c.step.nodeCount - c.accumulate!.nodeCount;
    });
    expect(optimizerNodes[1]).toBe(optimizerNodes[0]);
    expect(optimizerNodes[0]).toBeLessThan(40);
  });

  test('flat packing round-trips and rejects wrong sizes', () => {
    const layout = makeLayout([
      { name: 'a', shape: [2, 2] },
      { name: 'b', shape: [3] },
    ]);
    const flat = packParams(layout, { a: new Float32Array([1, 2, 3, 4]), b: new Float32Array([5, 6, 7]) });
    expect(Array.from(flat)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(unpackParams(layout, flat).get('b')!)).toEqual([5, 6, 7]);
    expect(() => packParams(layout, { a: new Float32Array(4) })).toThrow(/missing parameter b/);
    expect(() => packParams(layout, { a: new Float32Array(3), b: new Float32Array(3) })).toThrow(/a has 3 values, expected 4/);
  });

  test('the Split tree slices every parameter at its offset', async () => {
    const shapes = Array.from({ length: 17 }, (_, i) => [1 + (i % 3), 2]);
    const layout = makeLayout(shapes.map((shape, i) => ({ name: `p${i}`, shape })));
    const g = new GraphBuilder('split');
    const flat = g.input('flat', 'float32', [layout.size]);
    splitFlat(g, flat, layout).forEach((t, i) => g.output(g.mul(t, 1), `out${i}`));
    const data = Float32Array.from({ length: layout.size }, (_, i) => i);
    const out = await runGraph(g, { flat: data });
    layout.entries.forEach((e, i) => expect(Array.from(out[`out${i}`] as Float32Array)).toEqual(Array.from(data.slice(e.offset, e.offset + e.size))));
  });

  test('bad graphs are rejected with the reason', () => {
    const g = new GraphBuilder('bad');
    const x = g.input('lr', 'float32', [1]);
    const p = g.param('p', [1], new Float32Array(1));
    expect(() => compileTrainStep(g, g.reduceSum(g.mul(x, p), [0], false))).toThrow(/input name lr is reserved/);
    const h = new GraphBuilder('frozen');
    const q = h.param('q', [2], new Float32Array(2), 'frozen');
    expect(() => compileTrainStep(h, h.reduceSum(q, [0], false))).toThrow(/no trainable parameters/);
    expect(() => compileTrainStep(h, q)).toThrow(/loss must be a float32 scalar/);
  });
});

describe('per-sample weighted MSE', () => {
  test('equals Σ w_b·mean((pred_b − target_b)²) and gives prior preservation with its weights', async () => {
    const rng = makeRng(9);
    const [b, n] = [5, 6];
    const pred = rng.randn(b * n);
    const target = rng.randn(b * n);
    const g = new GraphBuilder('mse');
    const tp = g.input('pred', 'float32', [b, 2, 3]);
    const loss = weightedMse(g, tp, g.input('target', 'float32', [b, 2, 3]), g.input('w', 'float32', [b]));
    g.output(loss, 'loss');
    const mse = (i: number) => Array.from({ length: n }, (_, j) => (pred[i * n + j]! - target[i * n + j]!) ** 2).reduce((x, y) => x + y) / n;
    // 2 instance samples, 3 prior samples, prior weight 0.7.
    const w = priorPreservationWeights(2, 3, 0.7);
    const expected = (mse(0) + mse(1)) / 2 + (0.7 * (mse(2) + mse(3) + mse(4))) / 3;
    const out = await runGraph(g, { pred, target, w });
    expect((out.loss as Float32Array)[0]).toBeCloseTo(expected, 5);
    const onlyFirst = await runGraph(g, { pred, target, w: new Float32Array([1, 0, 0, 0, 0]) });
    expect((onlyFirst.loss as Float32Array)[0]).toBeCloseTo(mse(0), 5);
  });

  test('bad weights or shapes are named', () => {
    const g = new GraphBuilder('mse');
    const p = g.input('p', 'float32', [2, 3]);
    expect(() => weightedMse(g, p, g.input('t', 'float32', [2, 4]), g.input('w', 'float32', [2]))).toThrow(/pred \[2,3\] and target \[2,4\] differ/);
    expect(() => weightedMse(g, p, p, g.input('w3', 'float32', [3]))).toThrow(/weights \[3\] must be \[2\]/);
    expect(() => priorPreservationWeights(0, 0, 1)).toThrow(/batch is empty/);
    expect(() => priorPreservationWeights(1.5, 0, 1)).toThrow(/instances must be a non-negative integer/);
    expect(() => priorPreservationWeights(1, 1, -1)).toThrow(/priorWeight must be >= 0/);
  });
});
