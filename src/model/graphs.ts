/**
 * Inference graphs for the three Stable Diffusion components: declare static-shape inputs, run the
 * component's forward function, name the outputs. Input/output names follow Optimum's ONNX exports
 * of Stable Diffusion (sample / timestep / encoder_hidden_states → out_sample, etc.).
 */
import { GraphBuilder, liveNodes, type DType, type Tensor } from '../engine/graph';
import { canonicalCLIPTextName, clipTextForward } from './clipText';
import type { CLIPTextConfig, UNetConfig, VAEConfig } from './config';
import { ModelParams, type WeightSource } from './params';
import type { Float32Tensor } from './safetensors';
import { unetForward } from './unet';
import { vaeDecode, vaeEncode } from './vae';

export interface InferenceGraph {
  graph: GraphBuilder;
  /** Graph input names, in declaration order. */
  inputs: string[];
  /** Graph output names. */
  outputs: string[];
  /** True when the weights are the seeded initialisation (nobody trained this model). */
  untrained: boolean;
}

function finish(g: GraphBuilder, p: ModelParams, what: string, outputs: Record<string, Tensor>, mayBeUnused?: (n: string) => boolean): InferenceGraph {
  p.check(what, mayBeUnused);
  for (const [name, t] of Object.entries(outputs)) g.output(t, name);
  return { graph: g, inputs: g.inputs.map((t) => t.name), outputs: Object.keys(outputs), untrained: p.untrained };
}

export interface UNetGraphOptions {
  batch: number;
  /** Latent height and width; default config.sample_size. */
  height?: number;
  width?: number;
  /** Length of the text-embedding sequence; default 77. */
  textLength?: number;
  /** Element type of the per-sample timestep input; default float32. */
  timestepDtype?: Extract<DType, 'float32' | 'int64'>;
}

/** UNet2DConditionModel: sample [B,C,h,w], timestep [B], encoder_hidden_states [B,L,D] → out_sample. */
export function buildUNetGraph(config: UNetConfig, source: WeightSource, o: UNetGraphOptions): InferenceGraph {
  const size = config.sample_size;
  const height = o.height ?? size;
  const width = o.width ?? size;
  if (height === undefined || height === null || width === undefined || width === null) {
    throw new Error('UNet graph: give height and width (the config has no sample_size)');
  }
  const g = new GraphBuilder('unet');
  const p = new ModelParams(g, source);
  const sample = g.input('sample', 'float32', [o.batch, config.in_channels, height, width]);
  const timestep = g.input('timestep', o.timestepDtype ?? 'float32', [o.batch]);
  const ehs = g.input('encoder_hidden_states', 'float32', [o.batch, o.textLength ?? 77, config.cross_attention_dim]);
  const out = unetForward(p, config, { sample, timestep, encoderHiddenStates: ehs });
  return finish(g, p, 'unet weights', { out_sample: out });
}

export interface TextEncoderGraphOptions {
  batch: number;
  /** Token sequence length; default max_position_embeddings. */
  length?: number;
  /** Also output pooler_output (the end-of-text state). */
  pooled?: boolean;
  /** Prepended to every parameter's graph name (a training graph's names, so its trained values can feed this one). */
  paramPrefix?: string;
}

/** CLIPTextModel: input_ids [B,L] int64 → last_hidden_state [B,L,hidden] (and pooler_output [B,hidden]). */
export function buildTextEncoderGraph(config: CLIPTextConfig, source: WeightSource, o: TextEncoderGraphOptions): InferenceGraph {
  const g = new GraphBuilder('text_encoder');
  const p = new ModelParams(g, canonicalTextSource(source), { prefix: o.paramPrefix });
  const ids = g.input('input_ids', 'int64', [o.batch, o.length ?? config.max_position_embeddings]);
  const out = clipTextForward(p, config, ids);
  return finish(g, p, 'text_encoder weights', {
    last_hidden_state: out.lastHiddenState,
    ...(o.pooled ? { pooler_output: out.pooled } : {}),
  });
}

/** Renames a loaded CLIPTextModel state dict to this builder's names (see {@link canonicalCLIPTextName}). */
export function canonicalTextSource(source: WeightSource): WeightSource {
  if (source.kind === 'seeded') return source;
  const tensors = new Map<string, Float32Tensor>();
  for (const [name, t] of source.tensors) {
    const canonical = canonicalCLIPTextName(name);
    if (canonical !== null) tensors.set(canonical, t);
  }
  return { kind: 'weights', tensors };
}

export interface VAEGraphOptions {
  batch: number;
  /** Image height/width for the encoder, latent height/width for the decoder; default from config.sample_size. */
  height?: number;
  width?: number;
}

const isDecoderPart = (n: string) => n.startsWith('decoder.') || n.startsWith('post_quant_conv.');
const isEncoderPart = (n: string) => n.startsWith('encoder.') || n.startsWith('quant_conv.');

/** AutoencoderKL encoder: sample [B,3,H,W] in [-1,1] → latent_mean, latent_logvar [B,latent,H/f,W/f] (unscaled). */
export function buildVAEEncoderGraph(config: VAEConfig, source: WeightSource, o: VAEGraphOptions): InferenceGraph {
  const g = new GraphBuilder('vae_encoder');
  const p = new ModelParams(g, source);
  const x = g.input('sample', 'float32', [o.batch, config.in_channels, o.height ?? config.sample_size, o.width ?? config.sample_size]);
  const post = vaeEncode(p, config, x);
  return finish(g, p, 'vae weights', { latent_mean: post.mean, latent_logvar: post.logvar }, isDecoderPart);
}

/** AutoencoderKL decoder: latent_sample [B,latent,h,w] (unscaled) → sample [B,3,h·f,w·f]. */
export function buildVAEDecoderGraph(config: VAEConfig, source: WeightSource, o: VAEGraphOptions): InferenceGraph {
  const f = 2 ** (config.block_out_channels.length - 1);
  const g = new GraphBuilder('vae_decoder');
  const p = new ModelParams(g, source);
  const z = g.input('latent_sample', 'float32', [o.batch, config.latent_channels, o.height ?? config.sample_size / f, o.width ?? config.sample_size / f]);
  return finish(g, p, 'vae weights', { sample: vaeDecode(p, config, z) }, isEncoderPart);
}

/**
 * Node counts of a built graph: `total` live nodes, and `runtime` nodes — those that depend on a
 * graph input. The rest only transform weights (reshaped norm scales, fused q/k/v concatenations)
 * and onnxruntime constant-folds them when the weights are baked in.
 */
export function nodeCounts(g: GraphBuilder): { total: number; runtime: number } {
  const live = liveNodes(g);
  const dynamic = new Set<Tensor>(g.inputs);
  let runtime = 0;
  for (const n of live) {
    if (n.inputs.some((t) => t !== null && dynamic.has(t))) {
      runtime++;
      for (const o of n.outputs) dynamic.add(o);
    }
  }
  return { total: live.length, runtime };
}
