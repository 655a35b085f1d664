import * as ort from 'onnxruntime-web';
import type { GraphBuilder } from './builder';
import { serializeGraph, type SerializeOptions } from './serialize';
import type { TensorData } from './types';

/**
 * Creates an onnxruntime-web session for a built graph on the wasm EP (CPU). In Node,
 * `onnxruntime-web` resolves to its wasm-only build; tests use this to run graphs exactly as
 * the browser would, minus the GPU. Single-threaded unless the caller set `ort.env.wasm.numThreads`.
 */
export async function createWasmSession(g: GraphBuilder, opts: SerializeOptions = {}): Promise<ort.InferenceSession> {
  if (!ort.env.wasm.numThreads) ort.env.wasm.numThreads = 1;
  return ort.InferenceSession.create(serializeGraph(g, opts), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
}

/** Wraps typed arrays as ort tensors using the graph's declared input shapes (and parameter shapes for parameter inputs). */
export function feedsFor(g: GraphBuilder, values: Readonly<Record<string, TensorData>>): Record<string, ort.Tensor> {
  const shapes = new Map<string, readonly number[]>();
  for (const t of g.inputs) shapes.set(t.name, t.shape);
  for (const p of g.parameters()) shapes.set(p.tensor.name, p.tensor.shape);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, data] of Object.entries(values)) {
    const shape = shapes.get(name);
    if (!shape) throw new Error(`feedsFor: graph ${g.name} has no input or parameter named ${name}`);
    feeds[name] = new ort.Tensor(ortType(data), data, [...shape]);
  }
  return feeds;
}

/** Runs a session and returns each output's data as a typed array, keyed by output name. */
export async function runSession(
  session: ort.InferenceSession,
  g: GraphBuilder,
  values: Readonly<Record<string, TensorData>> = {},
): Promise<Record<string, TensorData>> {
  const res = await session.run(feedsFor(g, values));
  const out: Record<string, TensorData> = {};
  for (const [name, t] of Object.entries(res)) out[name] = t.data as TensorData;
  return out;
}

/** One-shot: build a wasm session for `g`, run it once on `values`, release it. */
export async function runGraph(
  g: GraphBuilder,
  values: Readonly<Record<string, TensorData>> = {},
  opts: SerializeOptions = {},
): Promise<Record<string, TensorData>> {
  const session = await createWasmSession(g, opts);
  try {
    return await runSession(session, g, values);
  } finally {
    await session.release();
  }
}

function ortType(data: TensorData): 'float32' | 'int64' | 'int32' | 'bool' {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return 'bool';
}
