import { describe, expect, test } from 'vitest';
import { GraphBuilder } from '../graph';
import { runGraph } from '../graph/runWasm';
import { makeRng } from '../graph/testing';
import { applyLora } from './lora';

/** x [n, in] · Wᵀ in float64. */
function linearRef(x: Float32Array, w: ArrayLike<number>, n: number, inF: number, outF: number): number[] {
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outF; o++) {
      let s = 0;
      for (let k = 0; k < inF; k++) s += x[i * inF + k]! * w[o * inF + k]!;
      y.push(s);
    }
  }
  return y;
}

function linearGraph(n: number, inF: number, outF: number, seed: number) {
  const rng = makeRng(seed);
  const g = new GraphBuilder('lin');
  const x = g.input('x', 'float32', [n, inF]);
  const w = rng.randn(outF * inF);
  const y = g.linear(x, g.param('blk.attn1.to_q.weight', [outF, inF], w), g.param('blk.attn1.to_q.bias', [outF], new Float32Array(outF)));
  g.output(g.linear(y, g.param('blk.proj.weight', [outF, outF], rng.randn(outF * outF))), 'y');
  g.output(y, 'q');
  return { g, w, x: rng.randn(n * inF) };
}

describe('LoRA', () => {
  test('y = xWᵀ + (alpha/r)·(xAᵀ)Bᵀ on a matched Linear, with peft names and groups', async () => {
    const [n, inF, outF, r, alpha] = [3, 5, 4, 2, 6];
    const { g, w, x } = linearGraph(n, inF, outF, 1);
    const lora = applyLora(g, { target: /attn1\.to_q\.weight$/, rank: r, alpha });
    expect(lora.adapters).toEqual([{ base: 'blk.attn1.to_q.weight', a: 'blk.attn1.to_q.lora_A.weight', b: 'blk.attn1.to_q.lora_B.weight', rank: r, alpha }]);
    const groups = Object.fromEntries(lora.graph.parameters().map((p) => [p.tensor.name, [p.group, p.tensor.shape.join('x')]]));
    expect(groups).toEqual({
      'blk.attn1.to_q.weight': ['frozen', '4x5'],
      'blk.attn1.to_q.lora_A.weight': ['trainable', '2x5'],
      'blk.attn1.to_q.lora_B.weight': ['trainable', '4x2'],
      'blk.attn1.to_q.bias': ['frozen', '4'],
      'blk.proj.weight': ['frozen', '4x4'],
    });
    // B starts at zero: the adapted graph computes what the original does.
    const before = await runGraph(g, { x });
    const start = await runGraph(lora.graph, { x });
    expect(Array.from(start.q as Float32Array)).toEqual(Array.from(before.q as Float32Array));
    // With B ≠ 0 (fed as inputs) the output is the LoRA formula.
    const rng = makeRng(2);
    const a = rng.randn(r * inF);
    const b = rng.randn(outF * r);
    const trained = await runGraph(
      lora.graph,
      { x, 'blk.attn1.to_q.lora_A.weight': a, 'blk.attn1.to_q.lora_B.weight': b },
      { paramsAsInputs: (p) => p.group === 'trainable' },
    );
    const xa = linearRef(x, a, n, inF, r);
    const delta = linearRef(Float32Array.from(xa), b, n, r, outF);
    const base = linearRef(x, w, n, inF, outF);
    const expected = base.map((v, i) => v + (alpha / r) * delta[i]!);
    Array.from(trained.q as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
  });

  test('A is initialised U(±1/√fan_in), deterministically per seed; other parameters can stay trainable', () => {
    const { g } = linearGraph(2, 64, 8, 3);
    const one = applyLora(g, { target: /to_q\.weight$/, rank: 4, alpha: 4, seed: 5, freezeOthers: false });
    const again = applyLora(g, { target: /to_q\.weight$/, rank: 4, alpha: 4, seed: 5 });
    const other = applyLora(g, { target: /to_q\.weight$/, rank: 4, alpha: 4, seed: 6 });
    const aOf = (l: typeof one) => l.graph.parameters().find((p) => p.tensor.name.endsWith('lora_A.weight'))!.data as Float32Array;
    const a = aOf(one);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(1 / 8);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.1);
    expect(Array.from(aOf(again))).toEqual(Array.from(a));
    expect(Array.from(aOf(other))).not.toEqual(Array.from(a));
    const trainable = one.graph
      .parameters('trainable')
      .map((p) => p.tensor.name)
      .sort();
    expect(trainable).toEqual(['blk.attn1.to_q.bias', 'blk.attn1.to_q.lora_A.weight', 'blk.attn1.to_q.lora_B.weight', 'blk.proj.weight']);
  });

  test('a Conv weight gets peft conv shapes and W + s·reshape(B·A)', async () => {
    const rng = makeRng(4);
    const [cin, cout, k, r, alpha] = [3, 4, 3, 2, 1];
    const g = new GraphBuilder('conv');
    const x = g.input('x', 'float32', [1, cin, 5, 5]);
    const w = rng.randn(cout * cin * k * k);
    const conv = (wt: ReturnType<GraphBuilder['param']>) => g.conv(x, wt, null, { pads: [1, 1, 1, 1], dilations: [1, 1], strides: [1, 1] });
    g.output(conv(g.param('conv_in.weight', [cout, cin, k, k], w)), 'y');
    const lora = applyLora(g, { target: (name) => name === 'conv_in.weight', rank: r, alpha });
    const shapes = Object.fromEntries(lora.graph.parameters('trainable').map((p) => [p.tensor.name, p.tensor.shape.join('x')]));
    expect(shapes).toEqual({ 'conv_in.lora_A.weight': '2x3x3x3', 'conv_in.lora_B.weight': '4x2x1x1' });
    const a = rng.randn(r * cin * k * k);
    const b = rng.randn(cout * r);
    const xv = rng.randn(cin * 25);
    const got = await runGraph(
      lora.graph,
      { x: xv, 'conv_in.lora_A.weight': a, 'conv_in.lora_B.weight': b },
      { paramsAsInputs: (p) => p.group === 'trainable' },
    );
    // The same conv with the merged weight computed here.
    const fan = cin * k * k;
    const merged = w.map((v, i) => {
      const [o, j] = [Math.floor(i / fan), i % fan];
      let s = 0;
      for (let q = 0; q < r; q++) s += b[o * r + q]! * a[q * fan + j]!;
      return v + (alpha / r) * s;
    });
    const h = new GraphBuilder('merged');
    const hx = h.input('x', 'float32', [1, cin, 5, 5]);
    h.output(h.conv(hx, h.param('w', [cout, cin, k, k], merged), null, { pads: [1, 1, 1, 1], dilations: [1, 1], strides: [1, 1] }), 'y');
    const want = await runGraph(h, { x: xv });
    Array.from(got.y as Float32Array).forEach((v, i) => expect(v).toBeCloseTo((want.y as Float32Array)[i]!, 4));
  });

  test('bad configurations are named', () => {
    const { g } = linearGraph(2, 4, 4, 5);
    expect(() => applyLora(g, { target: /nothing/, rank: 2, alpha: 2 })).toThrow(/no parameter of graph lin matches \/nothing\//);
    expect(() => applyLora(g, { target: /to_q\.bias$/, rank: 2, alpha: 2 })).toThrow(/to_q.bias \[4\] is not a Linear/);
    expect(() => applyLora(g, { target: /to_q\.weight$/, rank: 5, alpha: 2 })).toThrow(/rank 5 exceeds/);
    expect(() => applyLora(g, { target: /to_q\.weight$/, rank: 0, alpha: 2 })).toThrow(/rank must be a positive integer/);
    expect(() => applyLora(g, { target: /to_q\.weight$/, rank: 1, alpha: 0 })).toThrow(/alpha must be > 0/);
  });
});
