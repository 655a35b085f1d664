import { broadcastShapes, convOutDim, convTransposeOutDim, fmt, normAxes, normAxis, sameShape, sizeOf } from './shape';
import { Tensor } from './types';
import type { Attr, Attrs, DType, GraphNode, Initializer, ParamGroup, Shape, TensorData } from './types';

/** Constructors for typed node attributes. */
export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  ints: (value: readonly number[]): Attr => ({ kind: 'ints', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  floats: (value: readonly number[]): Attr => ({ kind: 'floats', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
};

/** Reads an int-list attribute of a node (`fallback` when absent). */
export function attrInts(node: GraphNode, key: string, fallback: readonly number[] = []): readonly number[] {
  const a = node.attrs[key];
  if (a === undefined) return fallback;
  if (a.kind !== 'ints') throw new Error(`${node.op} ${node.name}: attribute ${key} is ${a.kind}, not ints`);
  return a.value;
}

/** Reads a scalar numeric attribute of a node (`fallback` when absent). */
export function attrNum(node: GraphNode, key: string, fallback: number): number {
  const a = node.attrs[key];
  if (a === undefined) return fallback;
  if (a.kind !== 'int' && a.kind !== 'float') throw new Error(`${node.op} ${node.name}: attribute ${key} is ${a.kind}`);
  return a.value;
}

/** Conv options. Every field is emitted explicitly (WebGPU's Conv kernel rejects missing dilations). */
export interface ConvOptions {
  /** [sH, sW], default [1,1]. */
  strides?: readonly number[];
  /** [top, left, bottom, right], default zeros. */
  pads?: readonly number[];
  /** [dH, dW], default [1,1]. */
  dilations?: readonly number[];
  /** Channel groups, default 1. */
  group?: number;
}

export interface ConvTransposeOptions extends ConvOptions {
  /** Extra size added to one side of each output spatial axis, default [0,0]. */
  outputPadding?: readonly number[];
}

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
}

export interface LayerNormOptions {
  /** First normalized axis; all axes from here on are normalized. Default -1. */
  axis?: number;
  epsilon?: number;
}

type Operand = Tensor | number;

let nextGraphId = 1;

const FLOAT_ONLY = new Set<DType>(['float32']);
const NUMERIC = new Set<DType>(['float32', 'int32', 'int64']);

function typedArrayFor(dtype: DType, values: ArrayLike<number> | TensorData): TensorData {
  switch (dtype) {
    case 'float32':
      return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    case 'int32':
      return values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
    case 'bool':
      return values instanceof Uint8Array ? values : Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
    case 'int64':
      return values instanceof BigInt64Array ? values : BigInt64Array.from(Array.from(values as ArrayLike<number>, (v) => BigInt(v)));
  }
}

/** De-duplication key for a constant; large non-uniform constants are never shared (hashing would cost more than it saves). */
function constKey(dtype: DType, shape: Shape, data: TensorData): string | null {
  const head = `${dtype}|${shape.join('x')}|`;
  const n = data.length;
  if (n === 0) return head;
  const first = data[0];
  let uniform = true;
  for (let i = 1; i < n && uniform; i++) uniform = data[i] === first;
  if (uniform) return `${head}fill:${String(first)}`;
  if (n > 4096) return null;
  return head + Array.from(data as ArrayLike<number | bigint>, String).join(',');
}

/**
 * Static-shape ONNX graph builder. Every op method checks dtypes and shapes, infers the output's
 * shape, appends one node (composites append a few) and returns the output tensor.
 *
 * Nodes are kept in insertion order, which is a topological order; the reverse-mode
 * differentiator (src/engine/autodiff) walks them backwards and appends its nodes to the same builder.
 */
/**
 * Widest Split / Concat one node may be. WebGPU guarantees 8 storage buffers per shader stage (SwiftShader
 * gives exactly 8) and onnxruntime-web's kernels bind every Split output / Concat input as one plus the other
 * side: a wider node fails validation and silently yields zeros, so wider ones are emitted as trees.
 */
export const MAX_BINDING_WAYS = 7;

export class GraphBuilder {
  readonly id = nextGraphId++;
  /** All nodes in topological (insertion) order. */
  readonly nodes: GraphNode[] = [];
  /** Declared graph inputs (fed at run time). */
  readonly inputs: Tensor[] = [];
  /** Declared graph outputs. */
  readonly outputs: Tensor[] = [];
  private readonly inits = new Map<Tensor, Initializer>();
  private readonly producers = new Map<Tensor, GraphNode>();
  private readonly names = new Set<string>();
  private readonly constCache = new Map<string, Tensor>();
  private counter = 0;
  private prefix = '';

  constructor(readonly name = 'graph') {}

  // ---------------------------------------------------------------- values

  /** Declares a graph input fed at run time. */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    checkShape(`input ${name}`, shape);
    const t = new Tensor(this.id, this.claim(name), dtype, [...shape]);
    this.inputs.push(t);
    return t;
  }

  /**
   * Declares a named float32 parameter with its initial values. `trainable` parameters get
   * gradients by default; `frozen` ones never do. How parameters are delivered at run time
   * (baked-in initializer or graph input) is chosen when serializing.
   */
  param(name: string, shape: Shape, init: Float32Array, group: ParamGroup = 'trainable'): Tensor {
    checkShape(`param ${name}`, shape);
    if (init.length !== sizeOf(shape)) {
      throw new Error(`param ${name}: shape ${fmt(shape)} needs ${sizeOf(shape)} values, got ${init.length}`);
    }
    const t = new Tensor(this.id, this.claim(name), 'float32', [...shape]);
    this.inits.set(t, { tensor: t, data: init, group });
    return t;
  }

  /** Parameters in declaration order, optionally only one group. */
  parameters(group?: ParamGroup): Initializer[] {
    const out: Initializer[] = [];
    for (const init of this.inits.values()) {
      if (init.group !== 'constant' && (group === undefined || init.group === group)) out.push(init);
    }
    return out;
  }

  /** All initializers (parameters and constants) in creation order. */
  initializers(): Initializer[] {
    return [...this.inits.values()];
  }

  /** The initializer behind `t`, if `t` is a parameter or constant. */
  initializerOf(t: Tensor): Initializer | undefined {
    return this.inits.get(t);
  }

  /** Moves a parameter between the trainable and frozen groups (e.g. freeze a base model, train LoRA). */
  setParamGroup(t: Tensor, group: ParamGroup): void {
    const init = this.inits.get(t);
    if (!init || init.group === 'constant') throw new Error(`setParamGroup: ${t.name} is not a parameter`);
    init.group = group;
  }

  /**
   * A constant initializer. Identical constants (same dtype, shape and values) are shared.
   * int64 values are given as numbers (must be safe integers).
   */
  constant(values: ArrayLike<number> | TensorData, shape: Shape, dtype: DType = 'float32'): Tensor {
    checkShape('constant', shape);
    const data = typedArrayFor(dtype, values);
    if (data.length !== sizeOf(shape)) {
      throw new Error(`constant: shape ${fmt(shape)} needs ${sizeOf(shape)} values, got ${data.length}`);
    }
    const key = constKey(dtype, shape, data);
    const hit = key === null ? undefined : this.constCache.get(key);
    if (hit) return hit;
    const t = new Tensor(this.id, this.claim(`const_${this.counter++}`), dtype, [...shape]);
    this.inits.set(t, { tensor: t, data, group: 'constant' });
    if (key !== null) this.constCache.set(key, t);
    return t;
  }

  /** A rank-0 constant. */
  scalar(value: number, dtype: DType = 'float32'): Tensor {
    return this.constant([value], [], dtype);
  }

  /** A 1-D int64 constant (axes, shapes, pads, starts/ends). */
  int64s(values: readonly number[]): Tensor {
    return this.constant(values, [values.length], 'int64');
  }

  /** A float32 constant filled with one value. */
  full(shape: Shape, value: number): Tensor {
    return this.constant(new Float32Array(sizeOf(shape)).fill(value), shape);
  }

  /**
   * Marks `t` as a graph output, optionally naming it. Renaming is only possible for node outputs
   * that are not already graph inputs/outputs/initializers (ONNX would need an Identity node, which
   * the WebGPU EP lacks).
   */
  output(t: Tensor, name?: string): Tensor {
    this.own('output', t);
    if (this.outputs.includes(t)) throw new Error(`output: ${t.name} is already an output`);
    if (name !== undefined && name !== t.name) {
      if (!this.producers.has(t)) throw new Error(`output ${name}: ${t.name} is not a node output, so it cannot be renamed`);
      if (this.names.has(name)) throw new Error(`output ${name}: name already used`);
      this.names.delete(t.name);
      this.names.add(name);
      t.name = name;
    }
    this.outputs.push(t);
    return t;
  }

  /** The node that produced `t` (undefined for inputs and initializers). */
  producer(t: Tensor): GraphNode | undefined {
    return this.producers.get(t);
  }

  /** Runs `fn` with `prefix/` prepended to generated node and value names (readable graphs). */
  scope<T>(prefix: string, fn: () => T): T {
    const saved = this.prefix;
    this.prefix = `${saved}${prefix}/`;
    try {
      return fn();
    } finally {
      this.prefix = saved;
    }
  }

  /**
   * Appends a raw node. Op methods use this; it is public so other engine parts can emit ops
   * without a dedicated method. `outputs` lists each output's dtype and shape (already inferred).
   */
  node(op: string, inputs: readonly (Tensor | null)[], outputs: readonly { dtype: DType; shape: Shape }[], attrs: Attrs = {}): Tensor[] {
    for (const t of inputs) if (t) this.own(op, t);
    const base = `${this.prefix}${op}_${this.counter++}`;
    const outs = outputs.map((o, i) => new Tensor(this.id, this.claim(outputs.length === 1 ? base : `${base}_${i}`), o.dtype, [...o.shape]));
    const n: GraphNode = { name: base, op, inputs: [...inputs], outputs: outs, attrs };
    this.nodes.push(n);
    for (const o of outs) this.producers.set(o, n);
    return outs;
  }

  // ---------------------------------------------------------------- elementwise

  add(a: Operand, b: Operand): Tensor {
    return this.binary('Add', a, b);
  }
  sub(a: Operand, b: Operand): Tensor {
    return this.binary('Sub', a, b);
  }
  mul(a: Operand, b: Operand): Tensor {
    return this.binary('Mul', a, b);
  }
  div(a: Operand, b: Operand): Tensor {
    return this.binary('Div', a, b);
  }
  /** `x ** exponent` with a constant exponent. */
  pow(x: Tensor, exponent: number): Tensor {
    this.floatOnly('Pow', x);
    return this.node('Pow', [x, this.scalar(exponent)], [x])[0]!;
  }
  neg(x: Tensor): Tensor {
    return this.unary('Neg', x, NUMERIC);
  }
  sqrt(x: Tensor): Tensor {
    return this.unary('Sqrt', x);
  }
  exp(x: Tensor): Tensor {
    return this.unary('Exp', x);
  }
  log(x: Tensor): Tensor {
    return this.unary('Log', x);
  }
  sigmoid(x: Tensor): Tensor {
    return this.unary('Sigmoid', x);
  }
  tanh(x: Tensor): Tensor {
    return this.unary('Tanh', x);
  }
  erf(x: Tensor): Tensor {
    return this.unary('Erf', x);
  }
  equal(a: Operand, b: Operand): Tensor {
    return this.binary('Equal', a, b, 'bool');
  }
  less(a: Operand, b: Operand): Tensor {
    return this.binary('Less', a, b, 'bool');
  }
  /** Elementwise select with numpy broadcasting of all three operands. */
  where(cond: Tensor, a: Operand, b: Operand): Tensor {
    if (cond.dtype !== 'bool') throw new Error(`Where: condition must be bool, got ${cond.dtype}`);
    const [ta, tb] = this.operands('Where', a, b);
    const shape = broadcastShapes('Where', broadcastShapes('Where', cond.shape, ta.shape), tb.shape);
    return this.node('Where', [cond, ta, tb], [{ dtype: ta.dtype, shape }])[0]!;
  }
  /** Converts the element type; a no-op when it already matches. */
  cast(x: Tensor, to: DType): Tensor {
    if (x.dtype === to) return x;
    return this.node('Cast', [x], [{ dtype: to, shape: x.shape }], { to: attr.int(ONNX_DTYPE[to]) })[0]!;
  }

  // ---------------------------------------------------------------- linear algebra

  /** numpy-style matmul for rank >= 2 operands; batch dimensions broadcast. */
  matmul(a: Tensor, b: Tensor): Tensor {
    this.floatOnly('MatMul', a, b);
    if (a.rank < 2 || b.rank < 2) {
      throw new Error(`MatMul: operands must have rank >= 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
    }
    const [m, k] = a.shape.slice(-2) as [number, number];
    const [k2, n] = b.shape.slice(-2) as [number, number];
    if (k !== k2) throw new Error(`MatMul: inner dims differ: ${fmt(a.shape)} x ${fmt(b.shape)}`);
    const batch = broadcastShapes('MatMul (batch dims)', a.shape.slice(0, -2), b.shape.slice(0, -2));
    return this.node('MatMul', [a, b], [{ dtype: 'float32', shape: [...batch, m, n] }])[0]!;
  }

  /** `alpha * op(A) @ op(B) + beta * C` for 2-D A and B; C broadcasts to the [M,N] result. */
  gemm(a: Tensor, b: Tensor, c?: Tensor | null, opts: GemmOptions = {}): Tensor {
    this.floatOnly('Gemm', a, b, ...(c ? [c] : []));
    if (a.rank !== 2 || b.rank !== 2) throw new Error(`Gemm: A and B must be 2-D, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
    const transA = opts.transA ?? false;
    const transB = opts.transB ?? false;
    const [m, k] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const [k2, n] = transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    if (k !== k2) {
      throw new Error(`Gemm: inner dims differ: A${fmt(a.shape)}${transA ? 'ᵀ' : ''} x B${fmt(b.shape)}${transB ? 'ᵀ' : ''}`);
    }
    if (c && !sameShape(broadcastShapes('Gemm (C)', c.shape, [m, n]), [m, n])) {
      throw new Error(`Gemm: C ${fmt(c.shape)} does not broadcast to [${m},${n}]`);
    }
    return this.node('Gemm', c ? [a, b, c] : [a, b], [{ dtype: 'float32', shape: [m, n] }], {
      transA: attr.int(transA ? 1 : 0),
      transB: attr.int(transB ? 1 : 0),
      alpha: attr.float(opts.alpha ?? 1),
      beta: attr.float(opts.beta ?? 1),
    })[0]!;
  }

  /** 2-D convolution. x [N,C,H,W], w [M,C/group,kH,kW], b [M]. */
  conv(x: Tensor, w: Tensor, b?: Tensor | null, opts: ConvOptions = {}): Tensor {
    this.floatOnly('Conv', x, w, ...(b ? [b] : []));
    const { strides, pads, dilations, group } = convParams('Conv', opts);
    if (x.rank !== 4 || w.rank !== 4) throw new Error(`Conv: x and w must be 4-D, got ${fmt(x.shape)} and ${fmt(w.shape)}`);
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [m, cg, kh, kw] = w.shape as [number, number, number, number];
    if (c % group !== 0 || m % group !== 0 || cg * group !== c) {
      throw new Error(`Conv: x ${fmt(x.shape)} and w ${fmt(w.shape)} do not match group=${group} (need w[1]*group = C and M % group = 0)`);
    }
    if (b && !sameShape(b.shape, [m])) throw new Error(`Conv: bias ${fmt(b.shape)} must be [${m}]`);
    const oh = convOutDim(h, kh, strides[0]!, pads[0]!, pads[2]!, dilations[0]!);
    const ow = convOutDim(wd, kw, strides[1]!, pads[1]!, pads[3]!, dilations[1]!);
    if (oh < 1 || ow < 1) throw new Error(`Conv: kernel ${fmt(w.shape)} does not fit input ${fmt(x.shape)} with pads ${fmt(pads)}`);
    return this.node('Conv', b ? [x, w, b] : [x, w], [{ dtype: 'float32', shape: [n, m, oh, ow] }], {
      strides: attr.ints(strides),
      pads: attr.ints(pads),
      dilations: attr.ints(dilations),
      group: attr.int(group),
    })[0]!;
  }

  /** 2-D transposed convolution. x [N,C,H,W], w [C,M/group,kH,kW], b [M]. */
  convTranspose(x: Tensor, w: Tensor, b?: Tensor | null, opts: ConvTransposeOptions = {}): Tensor {
    this.floatOnly('ConvTranspose', x, w, ...(b ? [b] : []));
    const { strides, pads, dilations, group } = convParams('ConvTranspose', opts);
    const outputPadding = [...(opts.outputPadding ?? [0, 0])];
    if (outputPadding.length !== 2) throw new Error(`ConvTranspose: outputPadding must have 2 entries, got ${fmt(outputPadding)}`);
    outputPadding.forEach((p, i) => {
      if (p < 0 || (p >= strides[i]! && p >= dilations[i]!)) {
        throw new Error(`ConvTranspose: outputPadding ${fmt(outputPadding)} must be < stride or dilation`);
      }
    });
    if (x.rank !== 4 || w.rank !== 4) throw new Error(`ConvTranspose: x and w must be 4-D, got ${fmt(x.shape)} and ${fmt(w.shape)}`);
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [wc, mg, kh, kw] = w.shape as [number, number, number, number];
    if (wc !== c || c % group !== 0) {
      throw new Error(`ConvTranspose: x ${fmt(x.shape)} and w ${fmt(w.shape)} do not match group=${group} (need w[0] = C)`);
    }
    const m = mg * group;
    if (b && !sameShape(b.shape, [m])) throw new Error(`ConvTranspose: bias ${fmt(b.shape)} must be [${m}]`);
    const oh = convTransposeOutDim(h, kh, strides[0]!, pads[0]!, pads[2]!, dilations[0]!, outputPadding[0]!);
    const ow = convTransposeOutDim(wd, kw, strides[1]!, pads[1]!, pads[3]!, dilations[1]!, outputPadding[1]!);
    if (oh < 1 || ow < 1) throw new Error(`ConvTranspose: pads ${fmt(pads)} leave no output for ${fmt(x.shape)}`);
    return this.node('ConvTranspose', b ? [x, w, b] : [x, w], [{ dtype: 'float32', shape: [n, m, oh, ow] }], {
      strides: attr.ints(strides),
      pads: attr.ints(pads),
      dilations: attr.ints(dilations),
      group: attr.int(group),
      output_padding: attr.ints(outputPadding),
    })[0]!;
  }

  // ---------------------------------------------------------------- reductions / normalization

  /** Softmax along one axis (opset-13 semantics). */
  softmax(x: Tensor, axis = -1): Tensor {
    this.floatOnly('Softmax', x);
    return this.node('Softmax', [x], [x], { axis: attr.int(normAxis('Softmax', axis, x.rank)) })[0]!;
  }

  reduceSum(x: Tensor, axes: readonly number[], keepdims = true): Tensor {
    return this.reduce('ReduceSum', x, axes, keepdims);
  }

  reduceMean(x: Tensor, axes: readonly number[], keepdims = true): Tensor {
    return this.reduce('ReduceMean', x, axes, keepdims);
  }

  /** InstanceNormalization: x [N,C,...], scale and bias [C]. */
  instanceNorm(x: Tensor, scale: Tensor, bias: Tensor, epsilon = 1e-5): Tensor {
    this.floatOnly('InstanceNormalization', x, scale, bias);
    if (x.rank < 3) throw new Error(`InstanceNormalization: x must have rank >= 3, got ${fmt(x.shape)}`);
    const c = x.shape[1]!;
    if (!sameShape(scale.shape, [c]) || !sameShape(bias.shape, [c])) {
      throw new Error(`InstanceNormalization: scale ${fmt(scale.shape)} and bias ${fmt(bias.shape)} must be [${c}]`);
    }
    return this.node('InstanceNormalization', [x, scale, bias], [x], { epsilon: attr.float(epsilon) })[0]!;
  }

  /**
   * LayerNormalization (opset 17) over axes [axis, rank). scale/bias have shape x.shape[axis:].
   * The node also emits Mean and InvStdDev (as the ONNX op allows); the differentiator reuses InvStdDev.
   */
  layerNorm(x: Tensor, scale: Tensor, bias?: Tensor | null, opts: LayerNormOptions = {}): Tensor {
    this.floatOnly('LayerNormalization', x, scale, ...(bias ? [bias] : []));
    const axis = normAxis('LayerNormalization', opts.axis ?? -1, x.rank);
    const normShape = x.shape.slice(axis);
    if (!sameShape(scale.shape, normShape) || (bias && !sameShape(bias.shape, normShape))) {
      throw new Error(
        `LayerNormalization: scale ${fmt(scale.shape)}${bias ? ` and bias ${fmt(bias.shape)}` : ''} must be ${fmt(normShape)} for x ${fmt(x.shape)} axis ${axis}`,
      );
    }
    const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
    return this.node(
      'LayerNormalization',
      bias ? [x, scale, bias] : [x, scale],
      [x, { dtype: 'float32', shape: statShape }, { dtype: 'float32', shape: statShape }],
      { axis: attr.int(axis), epsilon: attr.float(opts.epsilon ?? 1e-5) },
    )[0]!;
  }

  // ---------------------------------------------------------------- shape ops

  /** Reshape to a static shape (one -1 allowed). Returns `x` when the shape is unchanged; collapses Reshape chains. */
  reshape(x: Tensor, shape: readonly number[]): Tensor {
    const target = resolveReshape(x, shape);
    if (sameShape(target, x.shape)) return x;
    const p = this.producers.get(x);
    const src = p?.op === 'Reshape' ? p.inputs[0]! : x;
    if (sameShape(target, src.shape)) return src;
    return this.node('Reshape', [src, this.int64s(target)], [{ dtype: x.dtype, shape: target }])[0]!;
  }

  /** Permutes axes. Identity permutations return `x`; Transpose chains collapse into one node. */
  transpose(x: Tensor, perm: readonly number[]): Tensor {
    if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
      throw new Error(`Transpose: perm ${fmt(perm)} is not a permutation of rank ${x.rank} (x ${fmt(x.shape)})`);
    }
    const p = this.producers.get(x);
    let src = x;
    let full = [...perm];
    if (p?.op === 'Transpose') {
      const inner = attrInts(p, 'perm');
      src = p.inputs[0]!;
      full = perm.map((q) => inner[q]!);
    }
    if (full.every((q, i) => q === i)) return src;
    return this.node('Transpose', [src], [{ dtype: x.dtype, shape: full.map((q) => src.shape[q]!) }], {
      perm: attr.ints(full),
    })[0]!;
  }

  concat(xs: readonly Tensor[], axis: number): Tensor {
    if (xs.length === 0) throw new Error('Concat: no inputs');
    const first = xs[0]!;
    if (xs.length === 1) return first;
    const ax = normAxis('Concat', axis, first.rank);
    let total = 0;
    for (const t of xs) {
      if (t.dtype !== first.dtype || t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
        throw new Error(`Concat: ${xs.map((u) => `${u.dtype}${fmt(u.shape)}`).join(', ')} do not match outside axis ${ax}`);
      }
      total += t.shape[ax]!;
    }
    if (xs.length > MAX_BINDING_WAYS) {
      const groups: Tensor[] = [];
      for (let i = 0; i < xs.length; i += MAX_BINDING_WAYS) groups.push(this.concat(xs.slice(i, i + MAX_BINDING_WAYS), ax));
      return this.concat(groups, ax);
    }
    const shape = first.shape.map((d, i) => (i === ax ? total : d));
    return this.node('Concat', xs, [{ dtype: first.dtype, shape }], { axis: attr.int(ax) })[0]!;
  }

  /**
   * Static Slice (numpy semantics, ends clamp). `axes` defaults to 0..starts.length-1; steps must be positive.
   */
  slice(x: Tensor, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Tensor {
    const ax = axes ?? starts.map((_, i) => i);
    const st = steps ?? starts.map(() => 1);
    if (starts.length !== ends.length || ax.length !== starts.length || st.length !== starts.length) {
      throw new Error(`Slice: starts/ends/axes/steps lengths differ for x ${fmt(x.shape)}`);
    }
    const norm = normAxes('Slice', ax, x.rank);
    if (norm.length !== ax.length) throw new Error('Slice: duplicate axes');
    const shape = [...x.shape];
    const rs: number[] = [];
    const re: number[] = [];
    const raxes: number[] = [];
    ax.forEach((a0, i) => {
      const a = normAxis('Slice', a0, x.rank);
      const dim = x.shape[a]!;
      const step = st[i]!;
      if (!(step > 0)) throw new Error(`Slice: step ${step} on axis ${a} must be positive`);
      const s = clampIndex(starts[i]!, dim);
      const e = clampIndex(ends[i]!, dim);
      shape[a] = Math.max(0, Math.ceil((e - s) / step));
      rs.push(s);
      re.push(e);
      raxes.push(a);
    });
    const inputs = [x, this.int64s(rs), this.int64s(re), this.int64s(raxes), this.int64s([...st])];
    return this.node('Slice', inputs, [{ dtype: x.dtype, shape }])[0]!;
  }

  /**
   * Splits along `axis` into pieces of the given sizes. More than {@link MAX_BINDING_WAYS} pieces become a
   * tree of Splits (consecutive groups first), about (n-1)/6 nodes for n pieces.
   */
  split(x: Tensor, sizes: readonly number[], axis = 0): Tensor[] {
    const ax = normAxis('Split', axis, x.rank);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== x.shape[ax] || sizes.some((s) => s < 1)) {
      throw new Error(`Split: sizes ${fmt(sizes)} must be positive and sum to dim ${ax} of ${fmt(x.shape)}`);
    }
    if (sizes.length === 1) return [x];
    if (sizes.length > MAX_BINDING_WAYS) {
      const groups: number[][] = [];
      for (let i = 0; i < sizes.length; i += MAX_BINDING_WAYS) groups.push(sizes.slice(i, i + MAX_BINDING_WAYS));
      const parts = this.split(
        x,
        groups.map((grp) => grp.reduce((a, b) => a + b, 0)),
        ax,
      );
      return parts.flatMap((part, i) => this.split(part, groups[i]!, ax));
    }
    const outs = sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === ax ? s : d)) }));
    return this.node('Split', [x, this.int64s(sizes)], outs, { axis: attr.int(ax) });
  }

  /** Inserts size-1 axes; `axes` index the output. */
  unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
    const rank = x.rank + axes.length;
    const ax = normAxes('Unsqueeze', axes, rank);
    const shape: number[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(ax.includes(i) ? 1 : x.shape[j++]!);
    return this.node('Unsqueeze', [x, this.int64s(ax)], [{ dtype: x.dtype, shape }])[0]!;
  }

  /** Removes the given size-1 axes. */
  squeeze(x: Tensor, axes: readonly number[]): Tensor {
    const ax = normAxes('Squeeze', axes, x.rank);
    for (const a of ax) if (x.shape[a] !== 1) throw new Error(`Squeeze: axis ${a} of ${fmt(x.shape)} is not 1`);
    const shape = x.shape.filter((_, i) => !ax.includes(i));
    return this.node('Squeeze', [x, this.int64s(ax)], [{ dtype: x.dtype, shape }])[0]!;
  }

  /** Broadcasts `x` to `shape` (numpy rules, as ONNX Expand). */
  expand(x: Tensor, shape: readonly number[]): Tensor {
    const out = broadcastShapes('Expand', x.shape, shape);
    if (sameShape(out, x.shape)) return x;
    return this.node('Expand', [x, this.int64s(shape)], [{ dtype: x.dtype, shape: out }])[0]!;
  }

  /** Constant padding. `pads` is ONNX order: all begins, then all ends (one per axis, non-negative). */
  pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
    if (pads.length !== 2 * x.rank || pads.some((p) => !Number.isInteger(p) || p < 0)) {
      throw new Error(`Pad: pads ${fmt(pads)} must be ${2 * x.rank} non-negative ints for x ${fmt(x.shape)}`);
    }
    if (pads.every((p) => p === 0)) return x;
    const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + x.rank]!);
    return this.node('Pad', [x, this.int64s(pads), this.scalar(value, x.dtype)], [{ dtype: x.dtype, shape }], {
      mode: attr.string('constant'),
    })[0]!;
  }

  /** Nearest-neighbour upsampling by positive integer factors per axis (PyTorch `nearest`: asymmetric, floor). */
  resizeNearest(x: Tensor, scales: readonly number[]): Tensor {
    this.floatOnly('Resize', x);
    if (scales.length !== x.rank || scales.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new Error(`Resize: scales ${fmt(scales)} must be ${x.rank} positive integers for x ${fmt(x.shape)}`);
    }
    const shape = x.shape.map((d, i) => d * scales[i]!);
    return this.node('Resize', [x, null, this.constant(scales, [scales.length])], [{ dtype: x.dtype, shape }], {
      mode: attr.string('nearest'),
      coordinate_transformation_mode: attr.string('asymmetric'),
      nearest_mode: attr.string('floor'),
    })[0]!;
  }

  /** Gather along `axis` (embedding lookup with axis 0). Indices must lie in [0, dim). */
  gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
    if (indices.dtype !== 'int64' && indices.dtype !== 'int32') throw new Error(`Gather: indices must be int64/int32, got ${indices.dtype}`);
    const ax = normAxis('Gather', axis, data.rank);
    const shape = [...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1)];
    return this.node('Gather', [data, indices], [{ dtype: data.dtype, shape }], { axis: attr.int(ax) })[0]!;
  }

  // ---------------------------------------------------------------- composites

  /** x * sigmoid(x). */
  silu(x: Tensor): Tensor {
    return this.mul(x, this.sigmoid(x));
  }

  /** GELU, exact erf form (`approximate: 'none'`) or the tanh approximation. */
  gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
    if (approximate === 'none') {
      const e = this.erf(this.mul(x, Math.SQRT1_2));
      return this.mul(x, this.add(this.mul(e, 0.5), 0.5));
    }
    const c = Math.sqrt(2 / Math.PI);
    const inner = this.mul(x, this.add(this.mul(this.mul(x, x), c * 0.044715), c));
    return this.mul(x, this.add(this.mul(this.tanh(inner), 0.5), 0.5));
  }

  /** x * sigmoid(1.702 x) (CLIP's quick_gelu). */
  quickGelu(x: Tensor): Tensor {
    return this.mul(x, this.sigmoid(this.mul(x, 1.702)));
  }

  /** PyTorch nn.Linear: x [..., in] @ wᵀ + b with w [out, in], b [out]; one Gemm node (reshapes are free). */
  linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
    if (w.rank !== 2) throw new Error(`linear: weight must be [out,in], got ${fmt(w.shape)}`);
    const [outF, inF] = w.shape as [number, number];
    if (x.shape[x.rank - 1] !== inF) throw new Error(`linear: x ${fmt(x.shape)} last dim must be ${inF} for weight ${fmt(w.shape)}`);
    if (b && !sameShape(b.shape, [outF])) throw new Error(`linear: bias ${fmt(b.shape)} must be [${outF}]`);
    const x2 = this.reshape(x, [-1, inF]);
    const y = this.gemm(x2, w, b, { transB: true });
    return this.reshape(y, [...x.shape.slice(0, -1), outF]);
  }

  /**
   * GroupNorm (PyTorch semantics) on x [N,C,...]: LayerNormalization over each group's [C/G * spatial]
   * elements, then per-channel affine. (The WebGPU EP has no GroupNormalization kernel.)
   */
  groupNorm(x: Tensor, numGroups: number, gamma?: Tensor | null, beta?: Tensor | null, epsilon = 1e-5): Tensor {
    if (x.rank < 2) throw new Error(`groupNorm: x must be [N,C,...], got ${fmt(x.shape)}`);
    const [n, c] = x.shape as [number, number];
    if (c % numGroups !== 0) throw new Error(`groupNorm: ${c} channels not divisible by ${numGroups} groups`);
    const l = x.size / (n * numGroups);
    const grouped = this.reshape(x, [n, numGroups, l]);
    const normed = this.reshape(this.layerNorm(grouped, this.full([l], 1), null, { axis: 2, epsilon }), x.shape);
    const chan = [c, ...x.shape.slice(2).map(() => 1)];
    for (const [t, what] of [
      [gamma, 'gamma'],
      [beta, 'beta'],
    ] as const) {
      if (t && !sameShape(t.shape, [c])) throw new Error(`groupNorm: ${what} ${fmt(t.shape)} must be [${c}]`);
    }
    const scaled = gamma ? this.mul(normed, this.reshape(gamma, chan)) : normed;
    return beta ? this.add(scaled, this.reshape(beta, chan)) : scaled;
  }

  // ---------------------------------------------------------------- internals

  private unary(op: string, x: Tensor, allowed: ReadonlySet<DType> = FLOAT_ONLY): Tensor {
    if (!allowed.has(x.dtype)) throw new Error(`${op}: unsupported dtype ${x.dtype} for ${x.name}`);
    return this.node(op, [x], [x])[0]!;
  }

  private binary(op: string, a: Operand, b: Operand, outDtype?: DType): Tensor {
    const [ta, tb] = this.operands(op, a, b);
    if (ta.dtype === 'bool') throw new Error(`${op}: bool operands are not supported`);
    const shape = broadcastShapes(op, ta.shape, tb.shape);
    return this.node(op, [ta, tb], [{ dtype: outDtype ?? ta.dtype, shape }])[0]!;
  }

  /** Turns number operands into scalar constants of the other operand's dtype and checks dtypes agree. */
  private operands(op: string, a: Operand, b: Operand): [Tensor, Tensor] {
    if (typeof a === 'number' && typeof b === 'number') throw new Error(`${op}: at least one operand must be a tensor`);
    const ta = typeof a === 'number' ? this.scalar(a, (b as Tensor).dtype) : a;
    const tb = typeof b === 'number' ? this.scalar(b, ta.dtype) : b;
    if (ta.dtype !== tb.dtype) throw new Error(`${op}: dtype mismatch ${ta.dtype}${fmt(ta.shape)} vs ${tb.dtype}${fmt(tb.shape)}`);
    return [ta, tb];
  }

  private reduce(op: 'ReduceSum' | 'ReduceMean', x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
    this.floatOnly(op, x);
    if (axes.length === 0) throw new Error(`${op}: axes must not be empty (list every axis to reduce all)`);
    const ax = normAxes(op, axes, x.rank);
    const shape = keepdims ? x.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !ax.includes(i));
    return this.node(op, [x, this.int64s(ax)], [{ dtype: x.dtype, shape }], { keepdims: attr.int(keepdims ? 1 : 0) })[0]!;
  }

  private floatOnly(op: string, ...ts: Tensor[]): void {
    for (const t of ts) if (t.dtype !== 'float32') throw new Error(`${op}: ${t.name} must be float32, got ${t.dtype}`);
  }

  private own(op: string, t: Tensor): void {
    if (t.graphId !== this.id) throw new Error(`${op}: tensor ${t.name} belongs to another graph`);
  }

  private claim(name: string): string {
    if (!name) throw new Error('tensor names must not be empty');
    if (this.names.has(name)) throw new Error(`name ${name} is already used in graph ${this.name}`);
    this.names.add(name);
    return name;
  }
}

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = { float32: 1, int32: 6, int64: 7, bool: 9 };

function checkShape(what: string, shape: Shape): void {
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`${what}: shape ${fmt(shape)} must be positive integers`);
}

function convParams(op: string, opts: ConvOptions) {
  const strides = [...(opts.strides ?? [1, 1])];
  const pads = [...(opts.pads ?? [0, 0, 0, 0])];
  const dilations = [...(opts.dilations ?? [1, 1])];
  const group = opts.group ?? 1;
  if (strides.length !== 2 || strides.some((s) => s < 1)) throw new Error(`${op}: strides ${fmt(strides)} must be 2 positive ints`);
  if (dilations.length !== 2 || dilations.some((s) => s < 1)) throw new Error(`${op}: dilations ${fmt(dilations)} must be 2 positive ints`);
  if (pads.length !== 4 || pads.some((p) => p < 0)) throw new Error(`${op}: pads ${fmt(pads)} must be 4 non-negative ints [top,left,bottom,right]`);
  if (!Number.isInteger(group) || group < 1) throw new Error(`${op}: group ${group} must be a positive integer`);
  return { strides, pads, dilations, group };
}

function resolveReshape(x: Tensor, shape: readonly number[]): number[] {
  const free = shape.filter((d) => d === -1).length;
  if (free > 1 || shape.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1))) {
    throw new Error(`Reshape: target ${fmt(shape)} may hold positive dims and at most one -1`);
  }
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  const out = shape.map((d) => (d === -1 ? x.size / known : d));
  if (sizeOf(out) !== x.size || out.some((d) => !Number.isInteger(d))) {
    throw new Error(`Reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
  }
  return out;
}

function clampIndex(i: number, dim: number): number {
  const j = i < 0 ? i + dim : i;
  return Math.min(Math.max(j, 0), dim);
}
