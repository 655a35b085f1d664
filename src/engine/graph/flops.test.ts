import { describe, expect, test } from 'vitest';
import { GraphBuilder } from './builder';
import { matmulFlops } from './flops';

describe('matmulFlops', () => {
  test('Conv, grouped Conv, ConvTranspose, Gemm and batched MatMul by hand; other ops count nothing', () => {
    const g = new GraphBuilder('flops');
    const x = g.input('x', 'float32', [2, 4, 8, 8]);
    const y = g.conv(x, g.input('w', 'float32', [6, 4, 3, 3]), null, { strides: [1, 1], pads: [1, 1, 1, 1] });
    // [2,6,8,8] outputs × 4·3·3 multiply-adds each
    const conv = 2 * (2 * 6 * 8 * 8) * (4 * 3 * 3);
    const a = g.input('a', 'float32', [3, 5, 7]);
    const b = g.input('b', 'float32', [3, 7, 2]);
    g.output(g.matmul(a, b), 'mm');
    g.output(g.sigmoid(y), 'y');
    // grouped: weight [6, 2, 1, 1] with group 2 → 2 multiply-adds per output
    const grouped = g.conv(x, g.input('wg', 'float32', [6, 2, 1, 1]), null, { group: 2 });
    g.output(grouped, 'grouped');
    // transposed, stride 2: each of the 2·4·8·8 inputs scatters into 3·2·2 outputs
    g.output(g.convTranspose(x, g.input('wt', 'float32', [4, 3, 2, 2]), null, { strides: [2, 2] }), 't');
    const p = g.input('p', 'float32', [7, 5]);
    g.output(g.gemm(p, g.input('q', 'float32', [9, 7]), null, { transA: true, transB: true }), 'gemm');
    const f = matmulFlops(g.nodes);
    const expected = {
      Conv: conv + 2 * (2 * 6 * 8 * 8) * 2,
      ConvTranspose: 2 * (2 * 4 * 8 * 8) * (3 * 2 * 2),
      Gemm: 2 * 5 * 9 * 7,
      MatMul: 2 * 3 * 5 * 2 * 7,
    };
    expect(f.byOp).toEqual(expected);
    expect(f.total).toBe(Object.values(expected).reduce((s, v) => s + v, 0));
  });
});
