import { formatShape, sameShape, type GraphBuilder, type Tensor } from '../graph';
import { gradientRules } from './rules';

export interface GradientOptions {
  /** Gradient of `loss` to start from (default: ones of the loss shape, i.e. d loss / d loss = 1). */
  seed?: Tensor;
}

/**
 * Reverse-mode differentiation: appends to `g` the backward graph of `loss` w.r.t. `wrt`
 * (default: every trainable parameter) and returns each one's gradient tensor, same shape.
 *
 * Only nodes on a path from a `wrt` tensor to `loss` get gradient work; frozen parameters,
 * constants and integer tensors never do. Gradients of tensors used several times are summed.
 * A `wrt` tensor that does not influence the loss gets a zeros constant.
 */
export function gradients(g: GraphBuilder, loss: Tensor, wrt?: readonly Tensor[], opts: GradientOptions = {}): Map<Tensor, Tensor> {
  const targets = wrt ?? g.parameters('trainable').map((p) => p.tensor);
  for (const t of [loss, ...targets]) {
    if (t.graphId !== g.id) throw new Error(`gradients: ${t.name} belongs to another graph`);
    if (t.dtype !== 'float32') throw new Error(`gradients: ${t.name} is ${t.dtype}; only float32 tensors have gradients`);
  }
  for (const t of targets) {
    if (g.initializerOf(t)?.group === 'frozen') throw new Error(`gradients: parameter ${t.name} is frozen`);
    if (g.initializerOf(t)?.group === 'constant') throw new Error(`gradients: ${t.name} is a constant`);
  }
  const seed = opts.seed ?? g.full(loss.shape, 1);
  if (!sameShape(seed.shape, loss.shape)) {
    throw new Error(`gradients: seed ${formatShape(seed.shape)} must match loss ${formatShape(loss.shape)}`);
  }

  const nodes = g.nodes.slice(); // the backward pass appends to g.nodes
  // Forward sweep: which float tensors depend on a target.
  const live = new Set<Tensor>(targets);
  for (const n of nodes) {
    if (!n.inputs.some((t) => t && live.has(t))) continue;
    for (const o of n.outputs) if (o.dtype === 'float32') live.add(o);
  }

  const grad = new Map<Tensor, Tensor>();
  const accumulate = (t: Tensor, d: Tensor, from: string) => {
    if (!sameShape(d.shape, t.shape)) {
      throw new Error(`gradients: rule for ${from} gave ${formatShape(d.shape)} for ${t.name} ${formatShape(t.shape)}`);
    }
    const prev = grad.get(t);
    grad.set(t, prev ? g.add(prev, d) : d);
  };

  g.scope('grad', () => {
    if (live.has(loss)) grad.set(loss, seed);
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i]!;
      const dys = node.outputs.map((o) => grad.get(o) ?? null);
      if (dys.every((d) => d === null)) continue;
      const needs = node.inputs.map((t) => t !== null && live.has(t));
      if (!needs.includes(true)) continue;
      const rule = gradientRules[node.op];
      if (!rule) throw new Error(`gradients: no gradient rule for ${node.op} (node ${node.name})`);
      const dy = dys[0] ?? g.full(node.outputs[0]!.shape, 0);
      const thunks = rule({ g, node, x: node.inputs, y: node.outputs, dy, dys });
      needs.forEach((need, j) => {
        if (!need) return;
        const thunk = thunks[j];
        if (!thunk) throw new Error(`gradients: ${node.op} (node ${node.name}) has no gradient for input ${j}`);
        accumulate(node.inputs[j]!, thunk(), `${node.op} ${node.name}`);
      });
    }
  });

  return new Map(targets.map((t) => [t, grad.get(t) ?? g.full(t.shape, 0)]));
}
