import onnxProto from 'onnx-proto';
import { ONNX_DTYPE, type GraphBuilder } from './builder';
import type { Attr, GraphNode, Initializer, Tensor } from './types';

const { onnx } = onnxProto;

/**
 * Opset 18: the newest opset whose ops we use all have kernels in onnxruntime-web 1.30 on both
 * the wasm (CPU) EP and the WebGPU (JSEP) EP — ReduceMean/Split/Resize/Pad 18, LayerNormalization 17 —
 * and that takes reduction axes as an input (so one code path for ReduceSum and ReduceMean).
 */
export const OPSET = 18;
/** IR version 8 is what ONNX 1.13 (opset 18) writes and what onnx-proto's schema (ONNX 1.10) can express. */
export const IR_VERSION = 8;

export interface SerializeOptions {
  /**
   * Which parameters become graph inputs (fed per run, e.g. GPU-resident trainable weights)
   * instead of baked-in initializers. Default: none.
   */
  paramsAsInputs?: (param: Initializer) => boolean;
}

/** Serializes the graph to ONNX protobuf bytes. Nodes that no output depends on are dropped. */
export function serializeGraph(g: GraphBuilder, opts: SerializeOptions = {}): Uint8Array {
  if (g.outputs.length === 0) throw new Error(`serializeGraph: graph ${g.name} has no outputs`);
  const live = liveNodes(g);
  const used = new Set<Tensor>();
  for (const n of live) for (const t of n.inputs) if (t) used.add(t);
  for (const t of g.outputs) used.add(t);

  const paramInputs: Tensor[] = [];
  const initializers: Initializer[] = [];
  for (const init of g.initializers()) {
    const asInput = init.group !== 'constant' && (opts.paramsAsInputs?.(init) ?? false);
    if (asInput) paramInputs.push(init.tensor);
    else if (used.has(init.tensor)) initializers.push(init);
  }

  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'dreambooth-studio',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: g.name,
      node: live.map(nodeProto),
      input: [...g.inputs, ...paramInputs].map(valueInfo),
      output: g.outputs.map(valueInfo),
      initializer: initializers.map(tensorProto),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Nodes some graph output depends on, in topological order. */
export function liveNodes(g: GraphBuilder): GraphNode[] {
  const need = new Set<Tensor>(g.outputs);
  const keep: GraphNode[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (!n.outputs.some((o) => need.has(o))) continue;
    keep.push(n);
    for (const t of n.inputs) if (t) need.add(t);
  }
  return keep.reverse();
}

function valueInfo(t: Tensor) {
  return {
    name: t.name,
    type: { tensorType: { elemType: ONNX_DTYPE[t.dtype], shape: { dim: t.shape.map((d) => ({ dimValue: d })) } } },
  };
}

function tensorProto(init: Initializer) {
  const { tensor, data } = init;
  return {
    name: tensor.name,
    dims: [...tensor.shape],
    dataType: ONNX_DTYPE[tensor.dtype],
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

function nodeProto(n: GraphNode) {
  return {
    name: n.name,
    opType: n.op,
    input: n.inputs.map((t) => (t ? t.name : '')),
    output: n.outputs.map((t) => t.name),
    attribute: Object.entries(n.attrs).map(([name, a]) => attrProto(name, a)),
  };
}

const T = onnx.AttributeProto.AttributeType;

function attrProto(name: string, a: Attr) {
  switch (a.kind) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}
