import type { GraphBuilder, GraphNode, Shape, Tensor } from '../graph';

/** What a gradient rule sees: the forward node, its inputs `x`, outputs `y`, and the incoming gradients. */
export interface RuleArgs {
  readonly g: GraphBuilder;
  readonly node: GraphNode;
  readonly x: readonly (Tensor | null)[];
  readonly y: readonly Tensor[];
  /** Gradient of output 0 (zeros when only other outputs received gradients). */
  readonly dy: Tensor;
  /** Gradient per output; null where an output does not reach the loss. */
  readonly dys: readonly (Tensor | null)[];
}

/**
 * A lazily evaluated input gradient. The differentiator only calls the thunks of inputs that lead
 * to a requested parameter, so no nodes are emitted for branches nobody needs.
 */
export type GradThunk = () => Tensor;

/** One entry of the gradient table: per node input, a thunk, or null if that input has no gradient. */
export type GradRule = (a: RuleArgs) => readonly (GradThunk | null)[];

/** Memoizes a thunk, so gradients of several inputs can share intermediates without emitting them twice. */
export function once<T>(f: () => T): () => T {
  let v: { value: T } | undefined;
  return () => (v ??= { value: f() }).value;
}

/**
 * Sums a broadcast gradient back to an operand's shape (numpy broadcasting in reverse): one
 * ReduceSum over the broadcast axes that drops them (`keepdims = 0`), plus a Reshape that puts back
 * the operand's size-1 axes. Dropping them in the ReduceSum means no Reshape at all when only leading
 * axes disappear (a bias [C] added to [N, T, C]), and none left on the path into the flat gradient, whose
 * flattening Reshape the builder composes with this one.
 */
export function sumTo(g: GraphBuilder, t: Tensor, shape: Shape): Tensor {
  const lead = t.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < t.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && t.shape[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return t;
  return g.reshape(g.reduceSum(t, axes, false), shape);
}

/** The numbers of a constant initializer (e.g. an exponent or resize scales). */
export function constValues(g: GraphBuilder, t: Tensor | null, what: string): number[] {
  const init = t ? g.initializerOf(t) : undefined;
  if (!init || init.group !== 'constant') throw new Error(`${what}: expected a constant input, got ${t?.name ?? 'none'}`);
  return Array.from(init.data as ArrayLike<number | bigint>, Number);
}

/** True when `t` is a constant initializer whose every value equals `v`. */
export function isConstFill(g: GraphBuilder, t: Tensor | null, v: number): boolean {
  const init = t ? g.initializerOf(t) : undefined;
  if (!init || init.group !== 'constant') return false;
  return Array.prototype.every.call(init.data, (u: number | bigint) => Number(u) === v);
}
