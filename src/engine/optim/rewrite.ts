import { GraphBuilder, type Initializer, type Tensor } from '../graph';

export interface RewriteHooks {
  /** Name of the new graph (default: the source graph's name). */
  name?: string;
  /**
   * How a parameter appears in the new graph, asked the first time a node reads it. Return a tensor of
   * the parameter's shape built in `dst` (e.g. base weight plus a LoRA delta, or a slice of one flat
   * trainable vector), or undefined to copy the parameter as it is.
   */
  param?: (init: Initializer, dst: GraphBuilder) => Tensor | undefined;
  /** Copy the source graph's outputs, with their names (default true). */
  outputs?: boolean;
}

export interface Rewritten {
  readonly graph: GraphBuilder;
  /** The tensor in the new graph that stands for a source tensor. */
  readonly map: (t: Tensor) => Tensor;
}

/**
 * Replays a built graph into a new builder, node by node, substituting parameters through a hook.
 * This is how train-step compilation and LoRA change *where parameters come from* without the model
 * code knowing: nodes, attributes, inputs and constants are copied unchanged, in the same order.
 */
export function rewriteGraph(src: GraphBuilder, hooks: RewriteHooks = {}): Rewritten {
  const dst = new GraphBuilder(hooks.name ?? src.name);
  const mapped = new Map<Tensor, Tensor>();
  for (const t of src.inputs) mapped.set(t, dst.input(t.name, t.dtype, t.shape));

  const map = (t: Tensor): Tensor => {
    const hit = mapped.get(t);
    if (hit) return hit;
    const init = src.initializerOf(t);
    if (!init) throw new Error(`rewriteGraph: ${t.name} is used before it is produced`);
    let out: Tensor;
    if (init.group === 'constant') out = dst.constant(init.data, t.shape, t.dtype);
    else {
      const sub = hooks.param?.(init, dst);
      if (sub && sub.shape.join() !== t.shape.join()) {
        throw new Error(`rewriteGraph: substitute for ${t.name} has shape [${sub.shape}], expected [${t.shape}]`);
      }
      out = sub ?? dst.param(t.name, t.shape, init.data as Float32Array, init.group);
    }
    mapped.set(t, out);
    return out;
  };

  for (const n of src.nodes) {
    const outs = dst.node(
      n.op,
      n.inputs.map((t) => (t ? map(t) : null)),
      n.outputs.map((o) => ({ dtype: o.dtype, shape: o.shape })),
      n.attrs,
    );
    n.outputs.forEach((o, i) => mapped.set(o, outs[i]!));
  }
  if (hooks.outputs ?? true) for (const t of src.outputs) dst.output(map(t), t.name);
  return { graph: dst, map };
}
