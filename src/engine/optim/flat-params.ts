import type { GraphBuilder, Shape, Tensor } from '../graph';

/**
 * WebGPU guarantees 8 storage buffers per shader stage (SwiftShader gives exactly 8), and the
 * onnxruntime-web WebGPU kernels bind every Split output / Concat input as one: a wider Split or Concat
 * fails validation and silently yields zeros. So one Split feeds at most 7 outputs.
 */
export const MAX_SPLIT_WAYS = 7;

/** Where each trainable parameter lives inside the one flat vector the optimizer updates. */
export interface ParamLayout {
  readonly entries: readonly { readonly name: string; readonly shape: Shape; readonly offset: number; readonly size: number }[];
  /** Total number of trainable values. */
  readonly size: number;
}

export function makeLayout(params: readonly { name: string; shape: Shape }[]): ParamLayout {
  let offset = 0;
  const entries = params.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const e = { name, shape: [...shape], offset, size };
    offset += size;
    return e;
  });
  return { entries, size: offset };
}

/** Packs named arrays into one flat vector in layout order; every parameter must be present with its size. */
export function packParams(layout: ParamLayout, values: ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>>): Float32Array {
  const get = (n: string) => (values instanceof Map ? values.get(n) : (values as Record<string, Float32Array>)[n]);
  const flat = new Float32Array(layout.size);
  for (const e of layout.entries) {
    const v = get(e.name);
    if (!v) throw new Error(`packParams: missing parameter ${e.name}`);
    if (v.length !== e.size) throw new Error(`packParams: ${e.name} has ${v.length} values, expected ${e.size} for [${e.shape}]`);
    flat.set(v, e.offset);
  }
  return flat;
}

/** Splits a flat vector back into named arrays (copies). */
export function unpackParams(layout: ParamLayout, flat: Float32Array): Map<string, Float32Array> {
  if (flat.length !== layout.size) throw new Error(`unpackParams: flat vector has ${flat.length} values, expected ${layout.size}`);
  return new Map(layout.entries.map((e) => [e.name, flat.slice(e.offset, e.offset + e.size)]));
}

/**
 * Slices `flat` into one tensor per layout entry (reshaped to its shape) with a tree of Splits of at
 * most {@link MAX_SPLIT_WAYS} outputs each: about n/6 Split nodes for n parameters, and the backward
 * pass mirrors it with as many Concats. Reshapes alias memory, so they cost no GPU dispatch.
 */
export function splitFlat(g: GraphBuilder, flat: Tensor, layout: ParamLayout): Tensor[] {
  const sizes = layout.entries.map((e) => e.size);
  const pieces = splitTree(g, flat, sizes);
  return pieces.map((p, i) => g.reshape(p, layout.entries[i]!.shape));
}

interface SplitNode {
  size: number;
  children?: SplitNode[];
}

/** Bottom-up: groups of 7 consecutive pieces become one Split, so n pieces take about (n-1)/6 Splits. */
function splitTree(g: GraphBuilder, t: Tensor, sizes: readonly number[]): Tensor[] {
  let level: SplitNode[] = sizes.map((size) => ({ size }));
  while (level.length > 1) {
    const next: SplitNode[] = [];
    for (let i = 0; i < level.length; i += MAX_SPLIT_WAYS) {
      const children = level.slice(i, i + MAX_SPLIT_WAYS);
      next.push(children.length === 1 ? children[0]! : { size: children.reduce((a, c) => a + c.size, 0), children });
    }
    level = next;
  }
  const emit = (n: SplitNode, x: Tensor): Tensor[] => {
    if (!n.children) return [x];
    const parts = g.split(x, n.children.map((c) => c.size), 0);
    return n.children.flatMap((c, i) => emit(c, parts[i]!));
  };
  return emit(level[0]!, t);
}
