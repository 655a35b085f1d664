/**
 * Benchmark baseline only: the same train step with one AdamW per parameter (its own m and v, as
 * torch.optim does it) instead of compileTrainStep's single flat update. It exists to measure what the
 * flat layout saves; the product uses compileTrainStep.
 */
import { gradients } from '../src/engine/autodiff';
import { serializeGraph, type GraphBuilder, type Tensor } from '../src/engine/graph';
import { appendAdamW } from '../src/engine/optim/adamw';
import { rewriteGraph } from '../src/engine/optim/rewrite';
import { HYPER, METRICS, countNodes, nextName, type CompiledProgram } from '../src/engine/optim/trainStep';

export function perParameterStep(src: GraphBuilder, loss: Tensor): { program: CompiledProgram; initialState: Record<string, Float32Array> } {
  const initialState: Record<string, Float32Array> = {};
  const inputs = new Map<string, Tensor>();
  const { graph: g, map } = rewriteGraph(src, {
    outputs: false,
    param: (init, dst) => {
      if (init.group !== 'trainable') return undefined;
      const { name, shape, size } = init.tensor;
      const flat = dst.input(name, 'float32', [size]);
      inputs.set(name, flat);
      initialState[name] = (init.data as Float32Array).slice();
      initialState[`adam.m/${name}`] = new Float32Array(size);
      initialState[`adam.v/${name}`] = new Float32Array(size);
      return dst.reshape(flat, shape);
    },
  });
  const l = map(loss);
  const grads = gradients(g, l, [...inputs.values()]);
  const lr = g.input(HYPER.lr, 'float32', []);
  const step = g.input(HYPER.step, 'float32', []);
  const norms: Tensor[] = [];
  const state: { name: string; output: string }[] = [];
  for (const [name, p] of inputs) {
    const m = g.input(`adam.m/${name}`, 'float32', p.shape);
    const v = g.input(`adam.v/${name}`, 'float32', p.shape);
    const out = appendAdamW(g, { param: p, grad: grads.get(p)!, m, v, lr, step }, { weightDecay: 0.01 });
    g.output(out.param, nextName(name));
    g.output(out.m, nextName(m.name));
    g.output(out.v, nextName(v.name));
    state.push(...[name, m.name, v.name].map((s) => ({ name: s, output: nextName(s) })));
    norms.push(g.reshape(out.gradNorm, [1]));
  }
  g.output(g.concat([g.reshape(l, [1]), norms[0]!], 0), METRICS);
  const nodes = countNodes(g);
  const program: CompiledProgram = {
    name: 'step',
    model: serializeGraph(g),
    nodeCount: nodes.total,
    runtimeNodeCount: nodes.runtime,
    feeds: [
      ...src.inputs.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
      { name: HYPER.lr, dtype: 'float32', shape: [] },
      { name: HYPER.step, dtype: 'float32', shape: [] },
    ],
    state,
    readback: [METRICS],
  };
  return { program, initialState };
}
