/**
 * Browser harness for the model builders (e2e/model-webgpu.spec.ts): builds a component of
 * diffusers' tiny SD pipeline (fixtures/diffusers-tiny-sd) in the page, runs it on onnxruntime-web's
 * WebGPU EP requested alone, and compares with PyTorch's outputs in reference_io.json.
 */
import { serializeGraph, type GraphBuilder, type TensorData } from '../../src/engine/graph';
import { capturePlacement, type Placement } from './placement';
import { describeWebGpu, ortWebGpuDevice, type BackendReport } from '../../src/engine/runtime/backend';
import { loadOrt } from '../../src/engine/runtime/ort';
import { buildDenoiseStepGraph, buildLatentDecoderGraph } from '../../src/generation/denoiseStepGraph';
import { parseCLIPTextConfig, parseUNetConfig, parseVAEConfig } from '../../src/model/config';
import { buildTextEncoderGraph, buildUNetGraph, nodeCounts } from '../../src/model/graphs';
import type { WeightSource } from '../../src/model/params';
import { readSafetensors } from '../../src/model/safetensors';
import { asInput, maxAbsDiff, type ReferenceIO } from '../../src/model/testing/reference';
import textEncoderConfig from '../../fixtures/diffusers-tiny-sd/text_encoder/config.json';
import textEncoderWeights from '../../fixtures/diffusers-tiny-sd/text_encoder/model.safetensors?url';
import unetConfig from '../../fixtures/diffusers-tiny-sd/unet/config.json';
import unetWeights from '../../fixtures/diffusers-tiny-sd/unet/diffusion_pytorch_model.safetensors?url';
import referenceUrl from '../../fixtures/diffusers-tiny-sd/reference_io.json?url';
import builtinUNetConfig from '../../models/builtin/unet/config.json';
import builtinVAEConfig from '../../models/builtin/vae/config.json';

export type Component = 'unet' | 'text_encoder';

export interface ComponentResult {
  component: Component;
  executionProviders: string[];
  backend: BackendReport;
  /** Nodes the builder emitted (total) and those depending on an input (the rest get constant-folded). */
  builtNodes: { total: number; runtime: number };
  placement: Placement;
  /** Max abs difference from PyTorch, per output. */
  maxAbsError: Record<string, number>;
  /** Milliseconds: fetch + build + serialize, session creation, the run (shader compilation included). */
  ms: { build: number; create: number; run: number };
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function weights(url: string): Promise<WeightSource> {
  return { kind: 'weights', tensors: readSafetensors(await fetchBytes(url)) };
}

let reference: Promise<ReferenceIO> | undefined;

interface Case {
  graph: GraphBuilder;
  feeds: Record<string, TensorData>;
  expected: Record<string, number[]>;
}

async function buildCase(component: Component): Promise<Case> {
  reference ??= fetch(referenceUrl).then((r) => r.json() as Promise<ReferenceIO>);
  const ref = (await reference)[component]!;
  const expected = Object.fromEntries(Object.entries(ref.outputs).map(([name, t]) => [name, t.data]));
  switch (component) {
    case 'unet': {
      // The float32 timestep input is what the sampling pipeline feeds (PyTorch's int64 values, exactly representable).
      const { graph } = buildUNetGraph(parseUNetConfig(unetConfig), await weights(unetWeights), { batch: 2 });
      const feeds = {
        sample: asInput(ref.inputs.sample!, 'float32'),
        timestep: asInput(ref.inputs.timestep!, 'float32'),
        encoder_hidden_states: asInput(ref.inputs.encoder_hidden_states!, 'float32'),
      };
      return { graph, feeds, expected };
    }
    case 'text_encoder': {
      const { graph } = buildTextEncoderGraph(parseCLIPTextConfig(textEncoderConfig), await weights(textEncoderWeights), { batch: 1, pooled: true });
      return { graph, feeds: { input_ids: asInput(ref.inputs.input_ids!, 'int64') }, expected };
    }
  }
}

/** Builds `component` with the project's builder and runs it once on WebGPU (no wasm fallback). */
async function runComponent(component: Component): Promise<ComponentResult> {
  const ort = await loadOrt();
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = now - t;
    t = now;
    return ms;
  };
  const { graph, feeds, expected } = await buildCase(component);
  const model = serializeGraph(graph);
  const build = lap();

  const executionProviders = ['webgpu'];
  const { value: session, placement } = await capturePlacement(() =>
    ort.InferenceSession.create(model, { executionProviders, graphOptimizationLevel: 'all', logSeverityLevel: 0 }),
  );
  const create = lap();
  try {
    const backend = describeWebGpu(await ortWebGpuDevice(ort), ort);
    const shapes = new Map(graph.inputs.map((i) => [i.name, [...i.shape]]));
    const tensors = Object.fromEntries(
      Object.entries(feeds).map(([name, data]) => [name, new ort.Tensor(data instanceof BigInt64Array ? 'int64' : 'float32', data, shapes.get(name))]),
    );
    lap();
    // Verbose logging is for the session's creation only; the run logs warnings and errors.
    const out = await session.run(tensors, { logSeverityLevel: 2 });
    const run = lap();
    const maxAbsError = Object.fromEntries(Object.entries(expected).map(([name, e]) => [name, maxAbsDiff(out[name]!.data as Float32Array, e)]));
    return { component, executionProviders, backend, builtNodes: nodeCounts(graph), placement, maxAbsError, ms: { build, create, run } };
  } finally {
    await session.release();
  }
}

export type SamplingGraph = 'denoise_step' | 'latent_decoder';

/**
 * Where onnxruntime places the nodes of a graph the generation pipeline runs (built-in model, seeded
 * weights, guided batch of one), from session creation alone: nothing is run, so no shader compiles.
 */
async function placementOf(which: SamplingGraph): Promise<Placement> {
  const ort = await loadOrt();
  const seeded = { kind: 'seeded', seed: 1 } as const;
  const unet = parseUNetConfig(builtinUNetConfig);
  const size = { latentHeight: unet.sample_size!, latentWidth: unet.sample_size! };
  const graph =
    which === 'denoise_step'
      ? buildDenoiseStepGraph(unet, seeded, { batch: 1, guided: true, textLength: 77, ...size })
      : buildLatentDecoderGraph(parseVAEConfig(builtinVAEConfig), seeded, { batch: 1, ...size });
  const { value: session, placement } = await capturePlacement(() =>
    ort.InferenceSession.create(serializeGraph(graph), { executionProviders: ['webgpu'], graphOptimizationLevel: 'all', logSeverityLevel: 0 }),
  );
  await session.release();
  return placement;
}

/** What the page's own WebGPU sees, independent of onnxruntime. */
async function probeWebGpu(): Promise<{ adapter: boolean; architecture: string }> {
  const adapter = await navigator.gpu?.requestAdapter();
  return { adapter: Boolean(adapter), architecture: adapter?.info.architecture ?? '' };
}

const harness = { runComponent, placementOf, probeWebGpu };
export type ModelHarness = typeof harness;
(window as unknown as { modelHarness: ModelHarness }).modelHarness = harness;
document.body.dataset.ready = 'true';
