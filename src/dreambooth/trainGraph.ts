/**
 * The DreamBooth train step: noise prediction of the UNet on a micro-batch of [subject photos…, class images…] at
 * random timesteps, loss = Σ_b w_b·MSE_b with w from priorPreservationWeights (mean over instances + λ·mean over
 * priors), forward, backward and AdamW in one graph (src/engine/optim/trainStep.ts).
 *
 * What trains: LoRA adapters on the UNet's attention projections (to_q/k/v/out of attn1 and attn2, as diffusers'
 * train_dreambooth_lora.py) or every UNet weight; the text encoder frozen (its outputs are then fed as
 * `encoder_hidden_states`, computed once), only the identifier's embedding row(s), or every text-encoder weight.
 */
import { GraphBuilder, type Tensor } from '../engine/graph';
import { applyLora, type LoraAdapter } from '../engine/lora/lora';
import type { ParamLayout } from '../engine/optim/flatParams';
import { perSampleMse } from '../engine/optim/loss';
import { rewriteGraph } from '../engine/optim/rewrite';
import { compileTrainStep, type CompiledTrainStep } from '../engine/optim/trainStep';
import { clipTextForward } from '../model/clipText';
import type { TrainedInputs } from '../generation/generationModel';
import type { ModelFolder } from '../model/folder';
import { canonicalTextSource } from '../model/graphs';
import { ModelParams } from '../model/params';
import { unetForward } from '../model/unet';
import type { TrainSettings } from './trainSettings';

export const UNET_PREFIX = 'unet.';
export const TEXT_PREFIX = 'text_encoder.';
/** The attention projections LoRA adapts (graph names carry the `unet.` prefix). */
export const LORA_TARGET = /^unet\..*\.attn[12]\.(to_q|to_k|to_v|to_out\.0)\.weight$/;
export const TOKEN_TABLE = `${TEXT_PREFIX}text_model.embeddings.token_embedding.weight`;
/** The trainable embedding rows of the identifier's tokens ('identifier' text-encoder training). */
export const IDENTIFIER_EMBEDDINGS = `${TEXT_PREFIX}identifier_embeddings`;

/** Per-run inputs of the step, beside the optimizer's. */
export const TRAIN_IO = {
  sample: 'sample',
  timestep: 'timestep',
  target: 'target',
  weights: 'sample_weight',
  /** Frozen text encoder: its output for each sample's prompt. */
  text: 'encoder_hidden_states',
  /** Text encoder in the graph: each sample's token ids. */
  ids: 'input_ids',
} as const;

export interface DreamBoothGraphOptions {
  settings: Pick<TrainSettings, 'unet' | 'loraRank' | 'loraAlpha' | 'textEncoder' | 'weightDecay' | 'gradientAccumulation' | 'seed'>;
  /** Samples per micro-batch (instances + priors). */
  batch: number;
  latentHeight: number;
  latentWidth: number;
  /** Embedding-table rows of the identifier's tokens (needed when only they train). */
  identifierRows: readonly number[];
}

export interface DreamBoothStep {
  compiled: CompiledTrainStep;
  /** LoRA adapters (empty for full fine-tuning), with peft names under the `unet.` prefix. */
  adapters: readonly LoraAdapter[];
  /** True when the text encoder runs inside the step (it feeds on token ids, not embeddings). */
  textInGraph: boolean;
  /** Where the per-sample losses sit in the step's metrics (after loss and grad norm) and accumulate's (after loss). */
  perSampleMetrics: { step: number; accumulate: number };
}

export function compileDreamBoothStep(folder: ModelFolder, o: DreamBoothGraphOptions): DreamBoothStep {
  const { settings: s } = o;
  const { unet, textEncoder } = folder;
  const textInGraph = s.textEncoder !== 'frozen';
  const g = new GraphBuilder('dreambooth_step');
  const unetGroup = s.unet === 'full' ? 'trainable' : 'frozen';
  const up = new ModelParams(g, unet.weights, { prefix: UNET_PREFIX, group: () => unetGroup });
  const L = textEncoder.config.max_position_embeddings;
  let text: Tensor;
  let tp: ModelParams | undefined;
  if (textInGraph) {
    tp = new ModelParams(g, canonicalTextSource(textEncoder.weights), {
      prefix: TEXT_PREFIX,
      group: () => (s.textEncoder === 'full' ? 'trainable' : 'frozen'),
    });
    text = clipTextForward(tp, textEncoder.config, g.input(TRAIN_IO.ids, 'int64', [o.batch, L])).lastHiddenState;
  } else {
    text = g.input(TRAIN_IO.text, 'float32', [o.batch, L, unet.config.cross_attention_dim]);
  }
  const latent = [o.batch, unet.config.in_channels, o.latentHeight, o.latentWidth];
  const sample = g.input(TRAIN_IO.sample, 'float32', latent);
  const timestep = g.input(TRAIN_IO.timestep, 'float32', [o.batch]);
  const target = g.input(TRAIN_IO.target, 'float32', [o.batch, unet.config.out_channels, o.latentHeight, o.latentWidth]);
  const weights = g.input(TRAIN_IO.weights, 'float32', [o.batch]);
  const pred = unetForward(up, unet.config, { sample, timestep, encoderHiddenStates: text });
  up.check('unet weights');
  tp?.check('text_encoder weights');
  const perSample = perSampleMse(g, pred, target);
  const loss = g.reduceSum(g.mul(perSample, weights), [0], false);

  if (s.textEncoder === 'identifier' && o.identifierRows.length === 0) {
    throw new Error('compileDreamBoothStep: identifier training needs the identifier’s embedding rows');
  }
  const { graph, map, adapters } = applyTrainingRewrites(g, s, o.identifierRows);
  const compiled = compileTrainStep(graph, map(loss), {
    adamw: { weightDecay: s.weightDecay },
    accumulation: s.gradientAccumulation > 1,
    extraMetrics: [map(perSample)],
  });
  return { compiled, adapters, textInGraph, perSampleMetrics: { step: 2, accumulate: 1 } };
}

/**
 * The rewrites that make a graph's trainable parameters what the settings train, each a new graph: the identifier's
 * embedding rows (when the graph holds the token table), then LoRA on the attention projections (when it holds
 * them). The train step applies them to its UNet + text-encoder graph; sampling graphs that read a run's trained
 * values (GenerationPipeline's TrainedInputs) apply them to the UNet's or the text encoder's graph alone, built with
 * the same parameter-name prefixes.
 */
export function applyTrainingRewrites(
  src: GraphBuilder,
  s: Pick<TrainSettings, 'unet' | 'loraRank' | 'loraAlpha' | 'textEncoder' | 'seed'>,
  identifierRows: readonly number[],
  loraTarget: (name: string) => boolean = (name) => LORA_TARGET.test(name),
): { graph: GraphBuilder; map: (t: Tensor) => Tensor; adapters: readonly LoraAdapter[] } {
  let graph = src;
  let map = (t: Tensor) => t;
  const names = new Set(src.parameters().map((p) => p.tensor.name));
  if (s.textEncoder === 'identifier' && names.has(TOKEN_TABLE)) {
    const r = trainIdentifierRows(graph, identifierRows);
    [graph, map] = [r.graph, r.map];
  }
  let adapters: readonly LoraAdapter[] = [];
  if (s.unet === 'lora' && [...names].some(loraTarget)) {
    const r = applyLora(graph, { target: loraTarget, rank: s.loraRank, alpha: s.loraAlpha, seed: s.seed, freezeOthers: false });
    const before = map;
    [graph, map, adapters] = [r.graph, (t) => r.map(before(t)), r.adapters];
  }
  return { graph, map, adapters };
}

/**
 * How the sampling graphs read a run's trainable values in place (GenerationPipeline's TrainedInputs): the training
 * graph's rewrites and names, the values laid out as `layout`. The live run and each of its checkpoints use the same;
 * a checkpoint passes the `adapters` it holds, which then decide where LoRA goes and with which rank and alpha.
 */
export function trainedInputsFor(
  settings: Pick<TrainSettings, 'unet' | 'loraRank' | 'loraAlpha' | 'textEncoder' | 'seed'>,
  identifierRows: readonly number[],
  layout: ParamLayout,
  adapters?: readonly LoraAdapter[],
): TrainedInputs {
  const first = adapters?.[0];
  if (first && adapters.some((a) => a.rank !== first.rank || a.alpha !== first.alpha)) {
    throw new Error('the checkpoint’s LoRA adapters differ in rank or alpha; the studio writes one rank and alpha for all');
  }
  const lora = first ? { ...settings, loraRank: first.rank, loraAlpha: first.alpha } : settings;
  const bases = first ? new Set(adapters.map((a) => a.base)) : null;
  const target = bases ? (name: string) => bases.has(name) : undefined;
  return {
    layout,
    rewrite: (graph) => applyTrainingRewrites(graph, lora, identifierRows, target).graph,
    prefixes: { unet: UNET_PREFIX, textEncoder: TEXT_PREFIX },
  };
}

/**
 * The token table with only the identifier's rows trainable: table·keep + onehot·rows, where `keep` zeroes those
 * rows of the frozen table and `rows` [k, D] (initialised from them) is the one trainable parameter.
 */
function trainIdentifierRows(src: GraphBuilder, rows: readonly number[]) {
  return rewriteGraph(src, {
    name: src.name,
    param: (init, dst) => {
      if (init.tensor.name !== TOKEN_TABLE) return undefined;
      const [vocab, dim] = init.tensor.shape as [number, number];
      const values = init.data as Float32Array;
      const table = dst.param(TOKEN_TABLE, [vocab, dim], values, 'frozen');
      const keep = new Float32Array(vocab).fill(1);
      const onehot = new Float32Array(vocab * rows.length);
      const initial = new Float32Array(rows.length * dim);
      rows.forEach((row, k) => {
        if (!Number.isInteger(row) || row < 0 || row >= vocab) throw new Error(`identifier row ${row} is outside the token table (${vocab} rows)`);
        keep[row] = 0;
        onehot[row * rows.length + k] = 1;
        initial.set(values.subarray(row * dim, (row + 1) * dim), k * dim);
      });
      const trained = dst.param(IDENTIFIER_EMBEDDINGS, [rows.length, dim], initial, 'trainable');
      return dst.add(dst.mul(table, dst.constant(keep, [vocab, 1])), dst.matmul(dst.constant(onehot, [vocab, rows.length]), trained));
    },
  });
}
