import { describe, expect, test } from 'vitest';
import { GraphBuilder, MAX_BINDING_WAYS } from './builder';
import { runGraph } from './runWasm';
import { liveNodes, serializeGraph } from './serialize';

function g3() {
  const g = new GraphBuilder('t');
  return { g, x: g.input('x', 'float32', [2, 3, 8, 8]) };
}

describe('shape inference', () => {
  test('infers shapes of conv, convTranspose, matmul, gemm, gather, slice, split', () => {
    const { g, x } = g3();
    const w = g.param('w', [6, 1, 3, 3], new Float32Array(54));
    expect(g.conv(x, g.param('w0', [6, 3, 3, 3], new Float32Array(162)), null, { strides: [2, 2], pads: [1, 1, 1, 1] }).shape).toEqual([2, 6, 4, 4]);
    expect(() => g.conv(x, w, null, { group: 3 })).not.toThrow();
    const ct = g.param('ct', [3, 2, 3, 3], new Float32Array(54));
    expect(g.convTranspose(x, ct, null, { strides: [2, 2], pads: [1, 1, 1, 1], outputPadding: [1, 1] }).shape).toEqual([2, 2, 16, 16]);
    const a = g.input('a', 'float32', [5, 1, 4, 3]);
    const b = g.input('b', 'float32', [7, 3, 2]);
    expect(g.matmul(a, b).shape).toEqual([5, 7, 4, 2]);
    const m = g.input('m', 'float32', [4, 3]);
    expect(g.gemm(m, m, null, { transA: true }).shape).toEqual([3, 3]);
    const idx = g.input('idx', 'int64', [2, 5]);
    expect(g.gather(m, idx).shape).toEqual([2, 5, 3]);
    expect(g.slice(x, [1, -3], [100, -1], [1, 3], [1, 2]).shape).toEqual([2, 2, 8, 1]);
    expect(g.split(x, [3, 5], -1).map((t) => t.shape)).toEqual([
      [2, 3, 8, 3],
      [2, 3, 8, 5],
    ]);
    expect(g.unsqueeze(m, [0, -1]).shape).toEqual([1, 4, 3, 1]);
    expect(g.reduceMean(x, [1, -1], false).shape).toEqual([2, 8]);
    expect(g.resizeNearest(x, [1, 1, 2, 2]).shape).toEqual([2, 3, 16, 16]);
    expect(g.where(g.less(a, 0), a, g.input('c', 'float32', [4, 1])).shape).toEqual([5, 1, 4, 3]);
  });

  test('errors name the op and the shapes', () => {
    const { g, x } = g3();
    const y = g.input('y', 'float32', [2, 4, 8, 8]);
    expect(() => g.add(x, y)).toThrow(/Add: shapes \[2,3,8,8\] and \[2,4,8,8\] do not broadcast/);
    const w = g.param('w', [6, 2, 3, 3], new Float32Array(108));
    expect(() => g.conv(x, w)).toThrow(/Conv: x \[2,3,8,8\] and w \[6,2,3,3\] do not match group=1/);
    expect(() => g.matmul(g.input('p', 'float32', [2, 3]), g.input('q', 'float32', [4, 5]))).toThrow(/MatMul: inner dims differ: \[2,3\] x \[4,5\]/);
    expect(() => g.reshape(x, [5, -1])).toThrow(/Reshape: cannot reshape \[2,3,8,8\]/);
    expect(() => g.squeeze(x, [0])).toThrow(/Squeeze: axis 0 of \[2,3,8,8\] is not 1/);
    expect(() => g.concat([x, y], 0)).toThrow(/Concat: .* do not match outside axis 0/);
    expect(() => g.split(x, [4, 5], 3)).toThrow(/Split: sizes \[4,5\]/);
    expect(() => g.reduceSum(x, [4])).toThrow(/ReduceSum: axis 4 out of range for rank 4/);
    expect(() => g.layerNorm(x, g.full([3], 1))).toThrow(/LayerNormalization: scale \[3\] must be \[8\]/);
    expect(() => g.groupNorm(x, 2)).toThrow(/groupNorm: 3 channels not divisible by 2 groups/);
    expect(() => g.param('w', [1], new Float32Array(1))).toThrow(/name w is already used/);
    expect(() => g.param('v', [2, 2], new Float32Array(3))).toThrow(/param v: shape \[2,2\] needs 4 values, got 3/);
    expect(() => g.sqrt(g.input('i', 'int64', [2]))).toThrow(/Sqrt: unsupported dtype int64/);
    expect(() => g.add(x, g.input('j', 'int32', [1]))).toThrow(/Add: dtype mismatch/);
    const other = new GraphBuilder('other');
    expect(() => g.neg(other.input('z', 'float32', [1]))).toThrow(/belongs to another graph/);
  });
});

describe('graph hygiene', () => {
  test('constants are de-duplicated and shape no-ops emit nothing', () => {
    const { g, x } = g3();
    expect(g.scalar(2)).toBe(g.constant([2], []));
    expect(g.int64s([1, 2])).toBe(g.int64s([1, 2]));
    expect(g.full([64], 1)).toBe(g.full([64], 1));
    expect(g.scalar(2)).not.toBe(g.scalar(2, 'int64'));
    const before = g.nodes.length;
    expect(g.reshape(x, [2, 3, 8, 8])).toBe(x);
    expect(g.transpose(x, [0, 1, 2, 3])).toBe(x);
    expect(g.transpose(g.transpose(x, [0, 2, 3, 1]), [0, 3, 1, 2])).toBe(x);
    expect(g.cast(x, 'float32')).toBe(x);
    const r = g.reshape(g.reshape(x, [6, 64]), [2, 3, 64]);
    expect(g.producer(r)?.inputs[0]).toBe(x); // chain collapsed onto the original
    g.output(r, 'r');
    expect(liveNodes(g).map((n) => n.op)).toEqual(['Reshape']);
    expect(g.nodes.length - before).toBeGreaterThan(1); // dead intermediates exist but are not serialized
  });

  test('conv always carries explicit strides, pads, dilations and group', () => {
    const { g, x } = g3();
    const y = g.conv(x, g.param('w', [4, 3, 1, 1], new Float32Array(12)));
    const n = g.producer(y)!;
    expect(Object.keys(n.attrs).sort()).toEqual(['dilations', 'group', 'pads', 'strides']);
    expect(n.attrs.dilations).toEqual({ kind: 'ints', value: [1, 1] });
  });

  test('output renaming and parameter inputs', () => {
    const { g, x } = g3();
    const w = g.param('w', [3], new Float32Array(3), 'frozen');
    const y = g.add(x, g.reshape(w, [3, 1, 1]));
    g.output(y, 'y');
    expect(y.name).toBe('y');
    expect(() => g.output(x, 'xx')).toThrow(/not a node output/);
    expect(g.parameters('frozen').map((p) => p.tensor)).toEqual([w]);
    g.setParamGroup(w, 'trainable');
    expect(g.parameters('trainable').map((p) => p.tensor)).toEqual([w]);
    expect(serializeGraph(g).byteLength).toBeGreaterThan(0);
  });
});

describe('wide Split and Concat', () => {
  test('become trees of nodes no wider than MAX_BINDING_WAYS and keep the values in order', async () => {
    const g = new GraphBuilder('wide');
    const n = 60;
    const x = g.input('x', 'float32', [n * 2]);
    const sizes = Array.from({ length: n }, () => 2);
    const pieces = g.split(x, sizes, 0);
    expect(pieces).toHaveLength(n);
    g.output(g.concat([...pieces].reverse(), 0), 'y');
    for (const node of g.nodes) {
      if (node.op === 'Split') expect(node.outputs.length).toBeLessThanOrEqual(MAX_BINDING_WAYS);
      if (node.op === 'Concat') expect(node.inputs.length).toBeLessThanOrEqual(MAX_BINDING_WAYS);
    }
    const data = Float32Array.from({ length: n * 2 }, (_, i) => i);
    const { y } = await runGraph(g, { x: data });
    const expected = sizes.flatMap((_, k) => [2 * (n - 1 - k), 2 * (n - 1 - k) + 1]);
    expect(Array.from(y as Float32Array)).toEqual(expected);
  });
});
