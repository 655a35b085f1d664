import type { GraphBuilder, Shape, Tensor } from '../graph';
import { rewriteGraph } from './rewrite';

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
 * Slices `flat` into one tensor per layout entry, reshaped to its shape. The builder emits a tree of narrow
 * Splits (see MAX_BINDING_WAYS); the backward pass mirrors it with Concats. Reshapes alias memory, so they
 * cost no GPU dispatch.
 */
export function splitFlat(g: GraphBuilder, flat: Tensor, layout: ParamLayout): Tensor[] {
  const pieces = g.split(
    flat,
    layout.entries.map((e) => e.size),
    0,
  );
  return pieces.map((p, i) => g.reshape(p, layout.entries[i]!.shape));
}

/**
 * `src` with every parameter named in `layout` read from one flat float32 input `name` ([layout.size], a training
 * run's parameter vector) instead of baked in as an initializer: an inference graph that samples from the trained
 * values as they are, with no rebuild when they change. The input is added only if the graph reads such a parameter.
 * The names of the entries it reads are added to `read`, so that values no graph reads can be found.
 */
export function paramsFromFlatInput(src: GraphBuilder, layout: ParamLayout, name: string, read?: Set<string>): GraphBuilder {
  const entries = new Map(layout.entries.map((e) => [e.name, e]));
  let flat: Tensor | undefined;
  return rewriteGraph(src, {
    param: (init, dst) => {
      const e = entries.get(init.tensor.name);
      if (!e) return undefined;
      if (e.shape.join() !== init.tensor.shape.join()) {
        throw new Error(`${e.name}: the values are laid out as [${e.shape.join(', ')}], the graph's parameter is [${init.tensor.shape.join(', ')}]`);
      }
      flat ??= dst.input(name, 'float32', [layout.size]);
      read?.add(e.name);
      return dst.reshape(dst.slice(flat, [e.offset], [e.offset + e.size]), e.shape);
    },
  }).graph;
}
