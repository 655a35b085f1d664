/** The differentiator as a whole: work skipping, accumulation, errors, and a UNet-like block end to end. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GraphBuilder, attrNum, liveNodes, type Tensor } from '../graph';
import { makeRng } from '../graph/testing';
import { fdCheck, paramOf as p } from './fdCheck';
import { gradients } from './gradients';

/** conv → groupNorm → SiLU → single-head self-attention with residual, on x [B,C,H,W]. */
function block(g: GraphBuilder, r: ReturnType<typeof makeRng>, x: Tensor, c: number, opts: { freezeConv?: boolean } = {}) {
  const [b, cin, h, w] = x.shape as [number, number, number, number];
  const conv = g.conv(x, p(g, r, 'conv.weight', [c, cin, 3, 3], 0.3), p(g, r, 'conv.bias', [c]), { pads: [1, 1, 1, 1] });
  if (opts.freezeConv) for (const n of ['conv.weight', 'conv.bias']) g.setParamGroup(g.parameters().find((q) => q.tensor.name === n)!.tensor, 'frozen');
  const hdn = g.silu(g.groupNorm(conv, 2, p(g, r, 'norm.weight', [c], 0.2, 1), p(g, r, 'norm.bias', [c], 0.2)));
  const seq = g.transpose(g.reshape(hdn, [b, c, h * w]), [0, 2, 1]); // [B, HW, C]
  // As in diffusers' Attention: q/k/v without bias (a key bias would not change softmax), output with bias.
  const lin = (name: string, t: Tensor, bias = false) => g.linear(t, p(g, r, `${name}.weight`, [c, c], 0.3), bias ? p(g, r, `${name}.bias`, [c], 0.1) : null);
  const q = lin('to_q', seq);
  const k = lin('to_k', seq);
  const v = lin('to_v', seq);
  const attn = g.softmax(g.mul(g.matmul(q, g.transpose(k, [0, 2, 1])), 1 / Math.sqrt(c)), -1);
  const o = lin('to_out', g.matmul(attn, v), true);
  return g.add(conv, g.reshape(g.transpose(o, [0, 2, 1]), [b, c, h, w]));
}

/** Op names with a WebGPU (JSEP) kernel, read from onnxruntime-web's own operator table. */
function webgpuOps(): Set<string> {
  const require = createRequire(import.meta.url);
  const pkg = dirname(dirname(require.resolve('onnxruntime-web'))); // <pkg>/dist/<entry>
  const md = readFileSync(join(pkg, 'docs', 'webgpu-operators.md'), 'utf8');
  return new Set([...md.matchAll(/^\| (\w+) \| ai\.onnx/gm)].map((m) => m[1]!));
}

describe('differentiator', () => {
  test('UNet-like block: gradients of every parameter match central differences', async () => {
    const r = await fdCheck({
      build: (g, rng) => ({ out: block(g, rng, p(g, rng, 'x', [2, 3, 4, 4]), 4) }),
      directions: 2,
      coords: 2,
    });
    expect(r.failures).toEqual([]);
  });

  test('emits only ops the WebGPU EP runs, never Identity/Shape/GroupNormalization, with explicit conv attributes', () => {
    const g = new GraphBuilder('block');
    const r = makeRng(3);
    const x = g.input('x', 'float32', [2, 8, 8, 8]);
    const y = block(g, r, x, 16);
    const loss = g.reduceMean(g.pow(g.sub(y, g.input('target', 'float32', y.shape)), 2), [0, 1, 2, 3], false);
    const forward = new Set(liveNodesOf(g, [loss]));
    const grads = gradients(g, loss);
    for (const [t, d] of grads) g.output(d, `grad.${t.name}`);
    g.output(loss, 'loss');
    const all = liveNodes(g);
    const backward = all.filter((n) => !forward.has(n));
    const supported = webgpuOps();
    for (const n of all) {
      expect(supported.has(n.op), `${n.op} (${n.name}) has a WebGPU kernel`).toBe(true);
      if (n.op === 'Conv' || n.op === 'ConvTranspose') {
        expect(Object.keys(n.attrs)).toEqual(expect.arrayContaining(['dilations', 'strides', 'pads', 'group']));
      }
    }
    // Reshape chains and Transpose pairs collapse, so no Reshape feeds a Reshape and no Transpose a Transpose.
    for (const n of all) {
      if (n.op !== 'Reshape' && n.op !== 'Transpose') continue;
      expect(g.producer(n.inputs[0]!)?.op).not.toBe(n.op);
    }
    const count = (ns: readonly { op: string }[]) =>
      Object.entries(ns.reduce<Record<string, number>>((a, n) => ((a[n.op] = (a[n.op] ?? 0) + 1), a), {})).sort();
    console.log(
      `block forward ${forward.size} nodes, backward ${backward.length} nodes (${all.length} total)\n` +
        `  forward:  ${count([...forward])
          .map(([k, v]) => `${k}×${v}`)
          .join(' ')}\n` +
        `  backward: ${count(backward)
          .map(([k, v]) => `${k}×${v}`)
          .join(' ')}`,
    );
  });

  test('frozen branches get no gradient work; asking for a frozen parameter is an error', () => {
    const build = (freezeConv: boolean) => {
      const g = new GraphBuilder('b');
      const y = block(g, makeRng(1), g.input('x', 'float32', [1, 2, 4, 4]), 4, { freezeConv });
      const loss = g.reduceSum(y, [0, 1, 2, 3], false);
      const before = g.nodes.length;
      const grads = gradients(g, loss);
      return { g, grads, added: g.nodes.slice(before) };
    };
    const full = build(false);
    const frozen = build(true);
    expect(full.grads.size).toBe(frozen.grads.size + 2);
    // With the conv frozen and x an input, nothing needs d/dx of the conv or its weight gradient.
    expect(full.added.some((n) => n.op === 'Conv')).toBe(true);
    expect(frozen.added.some((n) => n.op === 'Conv' || n.op === 'ConvTranspose')).toBe(false);
    expect(frozen.added.length).toBeLessThan(full.added.length);
    const w = frozen.g.parameters('frozen')[0]!.tensor;
    expect(() => gradients(frozen.g, frozen.g.outputs[0] ?? frozen.g.reduceSum(w, [0], false), [w])).toThrow(/is frozen/);
  });

  test('a bias gradient is one ReduceSum that drops the summed axes, with no Reshape', () => {
    const g = new GraphBuilder('bias');
    const b = g.param('b', [4], new Float32Array(4));
    const loss = g.reduceSum(g.add(g.input('x', 'float32', [2, 3, 4]), b), [0, 1, 2], false);
    const before = g.nodes.length;
    const db = gradients(g, loss, [b]).get(b)!;
    expect(db.shape).toEqual([4]);
    // The loss's own gradient (Reshape + Expand of the seed) comes first; db is the ReduceSum itself.
    const producer = g.nodes.slice(before).find((n) => n.outputs.includes(db))!;
    expect(producer.op).toBe('ReduceSum');
    expect(attrNum(producer, 'keepdims', 1)).toBe(0);
    expect(producer.inputs[0]!.shape).toEqual([2, 3, 4]);
  });

  test('a parameter that does not reach the loss gets zeros and costs no nodes', () => {
    const appended = (withUnused: boolean) => {
      const g = new GraphBuilder('z');
      const a = g.param('a', [3], new Float32Array([1, 2, 3]));
      const unused = g.param('unused', [2, 2], new Float32Array(4));
      const loss = g.reduceSum(g.mul(a, g.exp(a)), [0], false);
      const before = g.nodes.length;
      const grads = gradients(g, loss, withUnused ? [a, unused] : [a]);
      return { g, dz: grads.get(unused), added: g.nodes.length - before };
    };
    const { g, dz, added } = appended(true);
    expect(g.producer(dz!)).toBeUndefined();
    expect(Array.from(g.initializerOf(dz!)!.data as Float32Array)).toEqual([0, 0, 0, 0]);
    expect(added).toBe(appended(false).added);
  });

  test('an op without a rule, or a shape-inconsistent input, fails with the op named', () => {
    const g = new GraphBuilder('e');
    const a = g.param('a', [3], new Float32Array(3));
    const [y] = g.node('Relu', [a], [a]);
    const loss = g.reduceSum(y!, [0], false);
    expect(() => gradients(g, loss)).toThrow(/no gradient rule for Relu/);
    const g2 = new GraphBuilder('e2');
    const s = g2.param('s', [2, 6], new Float32Array(12));
    const sl = g2.slice(s, [0], [6], [1], [2]);
    expect(() => gradients(g2, g2.reduceSum(sl, [0, 1], false))).toThrow(/Slice gradient: only step 1/);
  });
});

function liveNodesOf(g: GraphBuilder, outs: Tensor[]) {
  const need = new Set<Tensor>(outs);
  const keep = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (!n.outputs.some((o) => need.has(o))) continue;
    keep.push(n);
    for (const t of n.inputs) if (t) need.add(t);
  }
  return keep;
}
