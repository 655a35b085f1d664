import { attrNum } from './builder';
import type { GraphNode } from './types';

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/**
 * Multiply-add FLOPs (2 per multiply-accumulate) of a graph's Conv, ConvTranspose, Gemm and MatMul nodes, from
 * their static shapes; everything else (normalization, activations, softmax, adds) is left out. LoRA's low-rank
 * products count like any MatMul.
 */
export function matmulFlops(nodes: readonly GraphNode[]): { total: number; byOp: Record<string, number> } {
  const byOp: Record<string, number> = {};
  for (const n of nodes) {
    const f = nodeFlops(n);
    if (f) byOp[n.op] = (byOp[n.op] ?? 0) + f;
  }
  return { total: Object.values(byOp).reduce((a, b) => a + b, 0), byOp };
}

function nodeFlops(n: GraphNode): number {
  const out = n.outputs[0]!.shape;
  switch (n.op) {
    case 'Conv': {
      // Every output value: Cin/group × kernel window multiply-adds. Weight [Cout, Cin/group, kh, kw].
      const w = n.inputs[1]!.shape;
      return 2 * prod(out) * prod(w.slice(1));
    }
    case 'ConvTranspose': {
      // Every input value scatters into Cout/group × kernel window outputs. Weight [Cin, Cout/group, kh, kw].
      const w = n.inputs[1]!.shape;
      return 2 * prod(n.inputs[0]!.shape) * prod(w.slice(1));
    }
    case 'Gemm': {
      const a = n.inputs[0]!.shape;
      const k = attrNum(n, 'transA', 0) ? a[0]! : a[1]!;
      return 2 * prod(out) * k;
    }
    case 'MatMul': {
      const a = n.inputs[0]!.shape;
      return 2 * prod(out) * a[a.length - 1]!;
    }
    default:
      return 0;
  }
}
