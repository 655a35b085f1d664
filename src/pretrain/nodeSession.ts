/** Inference graphs run in Node on the fastest engine backend there: onnxruntime-node's CPU EP, else the wasm EP. */
import type { InferenceSession } from 'onnxruntime-web';
import { serializeGraph, type GraphBuilder } from '../engine/graph';
import { loadOrt, nativeAvailable, type Ort } from '../engine/runtime/ort';
import { sessionOptions } from '../engine/runtime/sessionOptions';
import type { Feed } from '../engine/runtime/programRuntime';

export type NodeEp = 'cpu' | 'wasm';

/** 'cpu' (native) when onnxruntime-node loads, else 'wasm'. */
export async function fastestNodeEp(): Promise<NodeEp> {
  return (await nativeAvailable()) ? 'cpu' : 'wasm';
}

export class NodeSession {
  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    private readonly g: GraphBuilder,
  ) {}

  static async open(g: GraphBuilder, ep: NodeEp, threads: number): Promise<NodeSession> {
    const ort = await loadOrt(ep === 'cpu' ? 'node-native' : 'auto');
    if (ep === 'wasm') ort.env.wasm.numThreads ??= threads;
    return new NodeSession(ort, await ort.InferenceSession.create(serializeGraph(g), sessionOptions(ep, { threads })), g);
  }

  async run(feeds: Readonly<Record<string, Feed>>): Promise<Record<string, Float32Array>> {
    const inputs: Record<string, InstanceType<Ort['Tensor']>> = {};
    for (const t of this.g.inputs) {
      const v = feeds[t.name];
      if (v === undefined) throw new Error(`${this.g.name}: missing input ${t.name}`);
      const data = typeof v === 'number' ? new Float32Array([v]) : v;
      inputs[t.name] = new this.ort.Tensor(t.dtype as 'float32', data as Float32Array, [...t.shape]);
    }
    const out = await this.session.run(inputs);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
