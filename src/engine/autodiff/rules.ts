/**
 * The gradient table: for each ONNX op, how the gradient w.r.t. each input follows from the
 * gradient of the outputs. Every entry emits only ops the onnxruntime-web WebGPU EP runs.
 * Static shapes are known here, so broadcast reductions and reshapes use constants, never Shape ops.
 * Finite-difference tests: elementwise.test.ts, shape.test.ts, linalg.test.ts, normalization.test.ts.
 */
import { attrInts, attrNum, type GraphBuilder, type Tensor } from '../graph';
import { convGeom, convInputGrad, convTransposeInputGrad, convWeightGrad } from './convGrad';
import { normalizeInputGrad, normalizeStats } from './normGrad';
import { constValues, isConstFill, once, sumTo, type GradRule } from './rule';

const range = (a: number, b: number) => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);
/** ln(2/√π): folds erf's constant factor into the exponent, saving a node. */
const LN_ERF_SCALE = Math.log(2 / Math.sqrt(Math.PI));

/** Swaps the last two axes. */
const mT = (g: GraphBuilder, t: Tensor) => g.transpose(t, [...range(0, t.rank - 2), t.rank - 1, t.rank - 2]);
const swapLast = (s: readonly number[]) => [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!];
/** True when `t` is produced by a Transpose that only swaps the last two axes. */
const isSwap = (g: GraphBuilder, t: Tensor) => {
  const p = g.producer(t);
  if (p?.op !== 'Transpose') return false;
  const perm = attrInts(p, 'perm');
  return perm.every((q, i) => q === (i < t.rank - 2 ? i : i === t.rank - 2 ? t.rank - 1 : t.rank - 2));
};
/** Shape of a reduction's output with its reduced axes kept as 1s. */
const keptShape = (g: GraphBuilder, x: Tensor, axes: Tensor | null) => {
  const ax = constValues(g, axes, 'reduce axes');
  return x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
};

export const gradientRules: Readonly<Record<string, GradRule>> = {
  // ------------------------------------------------------------ elementwise (elementwise.test.ts)
  Add: ({ g, x: [a, b], dy }) => [() => sumTo(g, dy, a!.shape), () => sumTo(g, dy, b!.shape)],
  Sub: ({ g, x: [a, b], dy }) => [() => sumTo(g, dy, a!.shape), () => g.neg(sumTo(g, dy, b!.shape))],
  Mul: ({ g, x: [a, b], dy }) => [() => sumTo(g, g.mul(dy, b!), a!.shape), () => sumTo(g, g.mul(dy, a!), b!.shape)],
  Div: ({ g, x: [a, b], y: [y], dy }) => {
    const da = once(() => g.div(dy, b!));
    return [() => sumTo(g, da(), a!.shape), () => g.neg(sumTo(g, g.mul(da(), y!), b!.shape))];
  },
  Neg: ({ g, dy }) => [() => g.neg(dy)],
  Sqrt: ({ g, y: [y], dy }) => [() => g.div(dy, g.mul(y!, 2))],
  Pow: ({ g, x: [a, e], dy }) => {
    const [p] = constValues(g, e, 'Pow exponent') as [number];
    const dpow = () => (p === 2 ? g.mul(a!, 2) : g.mul(g.pow(a!, p - 1), p));
    return [() => (p === 1 ? dy : g.mul(dy, dpow())), null];
  },
  Exp: ({ g, y: [y], dy }) => [() => g.mul(dy, y!)],
  Log: ({ g, x: [a], dy }) => [() => g.div(dy, a!)],
  Sigmoid: ({ g, y: [y], dy }) => [() => g.mul(dy, g.mul(y!, g.sub(1, y!)))],
  Tanh: ({ g, y: [y], dy }) => [() => g.mul(dy, g.sub(1, g.mul(y!, y!)))],
  Erf: ({ g, x: [a], dy }) => [() => g.mul(dy, g.exp(g.sub(LN_ERF_SCALE, g.mul(a!, a!))))],
  Where: ({ g, x: [c, a, b], dy }) => [null, () => sumTo(g, g.where(c!, dy, 0), a!.shape), () => sumTo(g, g.where(c!, 0, dy), b!.shape)],
  // Pass-through inside [lo, hi] (bounds included, as torch.clamp), zero outside; bounds get none.
  Clip: ({ g, x: [a, lo, hi], dy }) => [
    () => {
      let d = dy;
      if (hi) d = g.where(g.less(hi, a!), 0, d);
      if (lo) d = g.where(g.less(a!, lo), 0, d);
      return d;
    },
    null,
    null,
  ],
  Cast: ({ g, x: [a], dy }) => [() => g.cast(dy, a!.dtype)],
  Softmax: ({ g, node, y: [y], dy }) => [
    () => {
      const ydy = g.mul(y!, dy);
      return g.sub(ydy, g.mul(y!, g.reduceSum(ydy, [attrNum(node, 'axis', -1)])));
    },
  ],

  // ------------------------------------------------------------ reductions and shapes (shape.test.ts)
  ReduceSum: ({ g, x: [a, axes], dy }) => [() => g.expand(g.reshape(dy, keptShape(g, a!, axes!)), a!.shape), null],
  ReduceMean: ({ g, x: [a, axes], y: [y], dy }) => [() => g.expand(g.mul(g.reshape(dy, keptShape(g, a!, axes!)), y!.size / a!.size), a!.shape), null],
  Reshape: ({ g, x: [a], dy }) => [() => g.reshape(dy, a!.shape), null],
  Squeeze: ({ g, x: [a], dy }) => [() => g.reshape(dy, a!.shape), null],
  Unsqueeze: ({ g, x: [a], dy }) => [() => g.reshape(dy, a!.shape), null],
  Transpose: ({ g, node, dy }) => {
    const perm = attrInts(node, 'perm');
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [() => g.transpose(dy, inv)];
  },
  Expand: ({ g, x: [a], dy }) => [() => sumTo(g, dy, a!.shape), null],
  Concat: ({ g, node, x, dy }) => {
    const axis = attrNum(node, 'axis', 0);
    const parts = once(() =>
      g.split(
        dy,
        x.map((t) => t!.shape[axis]!),
        axis,
      ),
    );
    return x.map((_, i) => () => parts()[i]!);
  },
  Split: ({ g, node, y, dys }) => [
    () =>
      g.concat(
        y.map((t, i) => dys[i] ?? g.full(t.shape, 0)),
        attrNum(node, 'axis', 0),
      ),
    null,
  ],
  Slice: ({ g, x: [a, starts, , axes, steps], dy }) => {
    if (constValues(g, steps!, 'Slice steps').some((s) => s !== 1)) {
      throw new Error('Slice gradient: only step 1 is differentiable');
    }
    const st = constValues(g, starts!, 'Slice starts');
    const ax = constValues(g, axes!, 'Slice axes');
    const pads = new Array<number>(2 * a!.rank).fill(0);
    ax.forEach((axis, i) => {
      pads[axis] = st[i]!;
      pads[axis + a!.rank] = a!.shape[axis]! - st[i]! - dy.shape[axis]!;
    });
    return [() => g.pad(dy, pads), null, null, null, null];
  },
  Pad: ({ g, x: [a, pads], dy }) => {
    const begin = constValues(g, pads!, 'Pad pads').slice(0, a!.rank);
    return [
      () =>
        g.slice(
          dy,
          begin,
          begin.map((b, i) => b + a!.shape[i]!),
          range(0, a!.rank),
        ),
      null,
      null,
    ];
  },
  // Nearest upsampling by integer factors: each input pixel feeds a block, so sum-pool the blocks.
  Resize: ({ g, x: [a, , scales], dy }) => {
    const s = constValues(g, scales!, 'Resize scales');
    return [
      () => {
        const blocked: number[] = [];
        const axes: number[] = [];
        a!.shape.forEach((d, i) => {
          blocked.push(d);
          if (s[i]! > 1) axes.push(blocked.push(s[i]!) - 1);
        });
        return g.reduceSum(g.reshape(dy, blocked), axes, false);
      },
      null,
      null,
    ];
  },
  // Embedding lookup: dTable = onehot(indices)ᵀ @ dy (WebGPU has no ScatterElements; ScatterND add is not in its kernel).
  Gather: ({ g, node, x: [table, idx], dy }) => {
    if (attrNum(node, 'axis', 0) !== 0) throw new Error('Gather gradient: only axis 0 (embedding lookup) is supported');
    return [
      () => {
        const v = table!.shape[0]!;
        const n = idx!.size;
        // WebGPU compares int32, not int64, and has no Cast from int64 (onnxruntime would run one on the CPU, which
        // rules out graph capture): int64 ids become int32 by gathering from 0…v−1.
        const rows = g.constant(range(0, v), [v], 'int32');
        const ids = g.reshape(idx!.dtype === 'int64' ? g.gather(rows, idx!) : g.cast(idx!, 'int32'), [n, 1]);
        const onehot = g.cast(g.equal(ids, rows), 'float32');
        return g.reshape(g.gemm(onehot, g.reshape(dy, [n, table!.size / v]), null, { transA: true }), table!.shape);
      },
      null,
    ];
  },

  // ------------------------------------------------------------ linear algebra (linalg.test.ts)
  MatMul: ({ g, x: [a, b], dy }) => {
    if (b!.rank === 2) {
      // A weight: flatten batch axes into rows, so each gradient is one Gemm and dB needs no reduction.
      const [k, n] = b!.shape as [number, number];
      const dy2 = once(() => g.reshape(dy, [-1, n]));
      return [() => g.reshape(g.gemm(dy2(), b!, null, { transB: true }), a!.shape), () => g.gemm(g.reshape(a!, [-1, k]), dy2(), null, { transA: true })];
    }
    // An operand that is itself a swapped Transpose (k in q·kᵀ) gets its gradient already transposed,
    // so the Transpose rule's transpose cancels in the builder instead of adding a node.
    return [
      () => (isSwap(g, a!) ? mT(g, sumTo(g, g.matmul(b!, mT(g, dy)), swapLast(a!.shape))) : sumTo(g, g.matmul(dy, mT(g, b!)), a!.shape)),
      () => (isSwap(g, b!) ? mT(g, sumTo(g, g.matmul(mT(g, dy), a!), swapLast(b!.shape))) : sumTo(g, g.matmul(mT(g, a!), dy), b!.shape)),
    ];
  },
  Gemm: ({ g, node, x: [a, b, c], dy }) => {
    const tA = attrNum(node, 'transA', 0) === 1;
    const tB = attrNum(node, 'transB', 0) === 1;
    const alpha = attrNum(node, 'alpha', 1);
    const beta = attrNum(node, 'beta', 1);
    return [
      () => (tA ? g.gemm(b!, dy, null, { transA: tB, transB: true, alpha }) : g.gemm(dy, b!, null, { transB: !tB, alpha })),
      () => (tB ? g.gemm(dy, a!, null, { transA: true, transB: tA, alpha }) : g.gemm(a!, dy, null, { transA: !tA, alpha })),
      c ? () => (beta === 1 ? sumTo(g, dy, c.shape) : g.mul(sumTo(g, dy, c.shape), beta)) : null,
    ];
  },
  Conv: ({ g, node, x: [x, w, b], dy }) => {
    const geom = convGeom(node);
    return [
      () => convInputGrad(g, dy, w!, x!, geom),
      () => convWeightGrad(g, x!, dy, w!.shape.slice(2), geom),
      b ? () => g.reduceSum(dy, [0, 2, 3], false) : null,
    ];
  },
  ConvTranspose: ({ g, node, x: [x, w, b], dy }) => {
    const geom = convGeom(node);
    return [
      () => convTransposeInputGrad(g, dy, w!, x!, geom),
      () => convWeightGrad(g, dy, x!, w!.shape.slice(2), geom),
      b ? () => g.reduceSum(dy, [0, 2, 3], false) : null,
    ];
  },

  // ------------------------------------------------------------ normalization (normalization.test.ts)
  LayerNormalization: ({ g, node, x: [x, scale, bias], y: [y, , invStd], dy, dys }) => {
    if (dys[1] || dys[2]) throw new Error('LayerNormalization gradient: Mean/InvStdDev outputs are not differentiable here');
    const axis = attrNum(node, 'axis', -1);
    const unitScale = isConstFill(g, scale!, 1);
    // With unit scale and no bias the output is x̂ itself (GroupNorm's inner node); otherwise recompute it.
    const xhat = once(() => (unitScale && !bias ? y! : normalizeStats(g, x!, axis, attrNum(node, 'epsilon', 1e-5)).xhat));
    const outer = range(0, axis);
    const sumOuter = (t: Tensor) => (outer.length ? g.reduceSum(t, outer, false) : t);
    return [
      () => normalizeInputGrad(g, unitScale ? dy : g.mul(dy, scale!), xhat(), invStd!, axis),
      () => sumOuter(g.mul(dy, xhat())),
      bias ? () => sumOuter(dy) : null,
    ];
  },
  InstanceNormalization: ({ g, node, x: [x, scale], dy }) => {
    const [n, c] = x!.shape as [number, number];
    const flat = [n, c, x!.size / (n * c)];
    const chan = [c, ...x!.shape.slice(2).map(() => 1)];
    const perChannel = [0, ...range(2, x!.rank)];
    const stats = once(() => normalizeStats(g, g.reshape(x!, flat), 2, attrNum(node, 'epsilon', 1e-5)));
    return [
      () => {
        const dxhat = g.reshape(g.mul(dy, g.reshape(scale!, chan)), flat);
        return g.reshape(normalizeInputGrad(g, dxhat, stats().xhat, stats().invStd, 2), x!.shape);
      },
      () => g.reduceSum(g.mul(dy, g.reshape(stats().xhat, x!.shape)), perChannel, false),
      () => g.reduceSum(dy, perChannel, false),
    ];
  },
};
