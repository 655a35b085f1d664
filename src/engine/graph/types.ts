/** Element types a graph value can have. Float math is float32 only (WebGPU without shader-f16). */
export type DType = 'float32' | 'int64' | 'int32' | 'bool';

/** A static shape: every dimension is a known non-negative integer. `[]` is a scalar. */
export type Shape = readonly number[];

/** Typed ONNX attribute value; the kind decides the protobuf field. */
export type Attr =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string };

export type Attrs = Readonly<Record<string, Attr>>;

/** Typed array holding an initializer's values, matching its dtype. */
export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

/** Who owns an initializer: a parameter the optimizer may update, a frozen parameter, or a builder constant. */
export type ParamGroup = 'trainable' | 'frozen';

/**
 * A symbolic tensor value inside one graph. It only carries metadata: its unique name,
 * dtype and static shape. Values are produced by graph inputs, initializers or nodes.
 */
export class Tensor {
  /** @internal the builder may rename an intermediate when it becomes a named graph output. */
  constructor(
    readonly graphId: number,
    public name: string,
    readonly dtype: DType,
    readonly shape: Shape,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  toString(): string {
    return `${this.name}: ${this.dtype}[${this.shape.join(',')}]`;
  }
}

/** One ONNX node. `inputs` may contain `null` for an omitted optional input. */
export interface GraphNode {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Attrs;
}

/** A named initializer: a parameter (trainable or frozen) or a de-duplicated constant. */
export interface Initializer {
  readonly tensor: Tensor;
  readonly data: TensorData;
  /** `constant` for values the builder made (axes, shapes, scalars); otherwise a parameter group. */
  group: ParamGroup | 'constant';
}
