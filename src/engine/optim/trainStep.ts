import { gradients } from '../autodiff';
import { GraphBuilder, liveNodes, serializeGraph, type DType, type Shape, type Tensor } from '../graph';
import { appendAdamW, type AdamWConfig } from './adamw';
import { makeLayout, splitFlat, type ParamLayout } from './flatParams';
import { rewriteGraph } from './rewrite';

/** Names of the optimizer's state tensors, fed in and read out of every program that uses them. */
export const STATE = {
  params: 'train.params',
  m: 'adam.m',
  v: 'adam.v',
  accum: 'grad.accum',
} as const;

/** Scalar per-step inputs: schedules change them without recompiling. */
export const HYPER = {
  lr: 'lr',
  step: 'step',
  maxGradNorm: 'max_grad_norm',
  gradScale: 'grad_scale',
} as const;

/** The small output every program returns to the CPU: [loss, grad norm] (step), [loss] (accumulate) or [grad norm] (apply). */
export const METRICS = 'metrics';

/** Name of the output that replaces state tensor `name` after a run. */
export const nextName = (name: string) => `${name}.next`;

export interface ValueSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
}

/** One serialized ONNX program plus how to bind it. */
export interface CompiledProgram {
  readonly name: 'step' | 'accumulate' | 'apply';
  readonly model: Uint8Array;
  /** Nodes in the serialized graph. */
  readonly nodeCount: number;
  /**
   * Nodes that depend on a graph input: what runs each step (WebGPU time scales with it). The rest
   * read only frozen weights and onnxruntime constant-folds them when the session is created.
   */
  readonly runtimeNodeCount: number;
  /** Inputs fed per run beside the state: the model's data inputs and the scalars in {@link HYPER}. */
  readonly feeds: readonly ValueSpec[];
  /** State tensors the program reads, with the output that replaces each after a run (null: read only). */
  readonly state: readonly { readonly name: string; readonly output: string | null }[];
  /** Outputs copied back to the CPU each run. */
  readonly readback: readonly string[];
}

export interface CompiledTrainStep {
  /** Forward, backward and AdamW in one graph: the normal training step. */
  readonly step: CompiledProgram;
  /** Micro-batch gradient accumulation: `accumulate` k times, then `apply` once with grad_scale = 1/k. */
  readonly accumulate?: CompiledProgram;
  readonly apply?: CompiledProgram;
  /** Where each trainable parameter sits in the flat `train.params` vector. */
  readonly layout: ParamLayout;
  /** Initial values of every state tensor: parameters from the graph, zero moments and accumulator. */
  readonly initialState: Readonly<Record<string, Float32Array>>;
}

export interface TrainStepOptions {
  adamw?: AdamWConfig;
  /** Compile global-norm gradient clipping (the max norm is the `max_grad_norm` input). Default true. */
  clipGradNorm?: boolean;
  /** Also compile the accumulate/apply pair for gradient accumulation. Default false. */
  accumulation?: boolean;
  /**
   * Tensors of the source graph read back with the loss (flattened, after [loss, grad norm] in the step's metrics
   * and after [loss] in accumulate's), e.g. per-sample losses so the CPU can report each term of a weighted loss.
   */
  extraMetrics?: readonly Tensor[];
}

/**
 * Compiles a forward graph with a scalar loss into train-step programs. Trainable parameters become
 * one flat graph input (`train.params`, sliced by a Split tree) so the optimizer's per-element work is
 * a fixed handful of nodes on three flat vectors (params, m, v) whatever the parameter count; frozen
 * parameters stay baked-in initializers. The source graph is not modified.
 */
export function compileTrainStep(src: GraphBuilder, loss: Tensor, opts: TrainStepOptions = {}): CompiledTrainStep {
  if (loss.graphId !== src.id) throw new Error(`compileTrainStep: loss ${loss.name} belongs to another graph`);
  if (loss.rank !== 0 || loss.dtype !== 'float32') throw new Error(`compileTrainStep: loss must be a float32 scalar, got ${loss}`);
  for (const t of opts.extraMetrics ?? []) {
    if (t.graphId !== src.id || t.dtype !== 'float32')
      throw new Error(`compileTrainStep: extra metric ${t.name} must be a float32 tensor of graph ${src.name}`);
  }
  const trainable = src.parameters('trainable');
  if (trainable.length === 0) throw new Error(`compileTrainStep: graph ${src.name} has no trainable parameters`);
  const reserved = new Set<string>([...Object.values(STATE), ...Object.values(HYPER)]);
  for (const t of src.inputs) {
    if (reserved.has(t.name)) throw new Error(`compileTrainStep: input name ${t.name} is reserved for the optimizer`);
  }
  const layout = makeLayout(trainable.map((p) => ({ name: p.tensor.name, shape: p.tensor.shape })));
  const clip = opts.clipGradNorm ?? true;
  const dataFeeds: ValueSpec[] = src.inputs.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape }));
  const scalar = (name: string): ValueSpec => ({ name, dtype: 'float32', shape: [] });
  const hyperFeeds = (...names: string[]) => names.map(scalar);
  const optFeeds = clip ? hyperFeeds(HYPER.lr, HYPER.step, HYPER.maxGradNorm) : hyperFeeds(HYPER.lr, HYPER.step);

  const flatSpec = { dtype: 'float32' as const, shape: [layout.size] };
  const initialState: Record<string, Float32Array> = {
    [STATE.params]: new Float32Array(layout.size),
    [STATE.m]: new Float32Array(layout.size),
    [STATE.v]: new Float32Array(layout.size),
  };
  for (const [i, p] of trainable.entries()) initialState[STATE.params]!.set(p.data as Float32Array, layout.entries[i]!.offset);

  /** The forward graph replayed with trainable parameters sliced from the flat input, and the flat gradient. */
  const forwardBackward = (name: string) => {
    let pieces: Map<string, Tensor> | undefined;
    let flat: Tensor | undefined;
    const { graph: g, map } = rewriteGraph(src, {
      name,
      outputs: false,
      param: (init, dst) => {
        if (init.group !== 'trainable') return undefined;
        if (!pieces) {
          flat = dst.input(STATE.params, flatSpec.dtype, flatSpec.shape);
          const parts = splitFlat(dst, flat, layout);
          pieces = new Map(layout.entries.map((e, i) => [e.name, parts[i]!]));
        }
        return pieces.get(init.tensor.name);
      },
    });
    const l = map(loss);
    if (!flat) throw new Error(`compileTrainStep: the loss of ${src.name} does not depend on any trainable parameter`);
    const grad = gradients(g, l, [flat]).get(flat)!;
    const extras = (opts.extraMetrics ?? []).map(map);
    return { g, loss: l, flat, grad, extras };
  };

  const optimizerInputs = (g: GraphBuilder) => ({
    m: g.input(STATE.m, flatSpec.dtype, flatSpec.shape),
    v: g.input(STATE.v, flatSpec.dtype, flatSpec.shape),
    lr: g.input(HYPER.lr, 'float32', []),
    step: g.input(HYPER.step, 'float32', []),
    maxGradNorm: clip ? g.input(HYPER.maxGradNorm, 'float32', []) : undefined,
  });

  // step: forward + backward + AdamW.
  const s = forwardBackward('train_step');
  const sIn = optimizerInputs(s.g);
  const sOut = appendAdamW(s.g, { param: s.flat, grad: s.grad, ...sIn }, opts.adamw);
  s.g.output(sOut.param, nextName(STATE.params));
  s.g.output(sOut.m, nextName(STATE.m));
  s.g.output(sOut.v, nextName(STATE.v));
  s.g.output(metrics(s.g, [s.loss, sOut.gradNorm, ...s.extras]), METRICS);
  const step = program('step', s.g, [...dataFeeds, ...optFeeds], [STATE.params, STATE.m, STATE.v], []);

  if (!opts.accumulation) return { step, layout, initialState };

  initialState[STATE.accum] = new Float32Array(layout.size);
  // accumulate: forward + backward, gradient added into the accumulator; parameters unchanged.
  const a = forwardBackward('train_accumulate');
  const accIn = a.g.input(STATE.accum, flatSpec.dtype, flatSpec.shape);
  a.g.output(a.g.add(accIn, a.grad), nextName(STATE.accum));
  a.g.output(metrics(a.g, [a.loss, ...a.extras]), METRICS);
  const accumulate = program('accumulate', a.g, dataFeeds, [STATE.accum], [STATE.params]);

  // apply: AdamW on the averaged accumulated gradient; the accumulator is zeroed for the next round.
  const p = new GraphBuilder('train_apply');
  const pFlat = p.input(STATE.params, flatSpec.dtype, flatSpec.shape);
  const pAcc = p.input(STATE.accum, flatSpec.dtype, flatSpec.shape);
  const pIn = optimizerInputs(p);
  const gradScale = p.input(HYPER.gradScale, 'float32', []);
  const pOut = appendAdamW(p, { param: pFlat, grad: pAcc, gradScale, ...pIn }, opts.adamw);
  p.output(pOut.param, nextName(STATE.params));
  p.output(pOut.m, nextName(STATE.m));
  p.output(pOut.v, nextName(STATE.v));
  p.output(p.mul(pAcc, 0), nextName(STATE.accum));
  p.output(metrics(p, [pOut.gradNorm]), METRICS);
  const apply = program('apply', p, [...optFeeds, scalar(HYPER.gradScale)], [STATE.params, STATE.m, STATE.v, STATE.accum], []);

  return { step, accumulate, apply, layout, initialState };
}

/** Scalars (and small tensors, flattened) packed into one vector, so each run reads back one tensor. */
function metrics(g: GraphBuilder, values: readonly Tensor[]): Tensor {
  return g.concat(
    values.map((t) => g.reshape(t, [t.size])),
    0,
  );
}

/**
 * Serializes a program. `updated` state tensors are replaced by their `.next` output after each run;
 * `readOnly` ones (e.g. parameters while accumulating) are fed but not replaced.
 */
function program(
  name: CompiledProgram['name'],
  g: GraphBuilder,
  feeds: readonly ValueSpec[],
  updated: readonly string[],
  readOnly: readonly string[],
): CompiledProgram {
  const state = [...updated.map((s) => ({ name: s, output: nextName(s) })), ...readOnly.map((s) => ({ name: s, output: null }))];
  const counts = countNodes(g);
  return { name, model: serializeGraph(g), nodeCount: counts.total, runtimeNodeCount: counts.runtime, feeds, state, readback: [METRICS] };
}

/** Live nodes of a graph, and how many of them depend on a graph input (see CompiledProgram.runtimeNodeCount). */
export function countNodes(g: GraphBuilder): { total: number; runtime: number } {
  const live = liveNodes(g);
  const dynamic = new Set<Tensor>(g.inputs);
  let runtime = 0;
  for (const n of live) {
    if (!n.inputs.some((t) => t !== null && dynamic.has(t))) continue;
    runtime++;
    for (const o of n.outputs) dynamic.add(o);
  }
  return { total: live.length, runtime };
}
