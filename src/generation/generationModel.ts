/**
 * A model ready for generation: its diffusers folder (configs + weights or seeded fallback), scheduler config
 * and prompt tokenizer. Models come from sources registered by id; the built-in model is bundled.
 */
import builtinIndex from '../../models/builtin/model_index.json';
import builtinScheduler from '../../models/builtin/scheduler/scheduler_config.json';
import builtinTextEncoder from '../../models/builtin/text_encoder/config.json';
import builtinUnet from '../../models/builtin/unet/config.json';
import builtinVae from '../../models/builtin/vae/config.json';
import type { GraphBuilder } from '../engine/graph';
import type { ParamLayout } from '../engine/optim/flatParams';
import { isNode } from '../engine/runtime/ort';
import { ConfigError, parseJson } from '../model/configErrors';
import { loadModelFolder, type FolderReader, type ModelFolder } from '../model/folder';
import { CompactVocabulary } from '../text/compactVocabulary';
import { promptTokenizerFor, type PromptTokenizer } from './promptTokens';

export const BUILTIN_MODEL_ID = 'builtin';

/** Where a model's files come from. */
export interface ModelSource {
  id: string;
  /** Changes whenever the weights do (e.g. a checkpoint's step): part of every cache key. */
  revision: string;
  read: FolderReader;
}

/** A compact vocabulary saved next to a small model's text encoder (src/text/compactVocabulary.ts JSON). */
export const VOCABULARY_FILE = 'tokenizer/compact_vocabulary.json';
/** CLIPTokenizer's tokens after CLIP's vocabulary, `{token: id}` (transformers' `save_pretrained`), e.g. an exported identifier. */
export const ADDED_TOKENS_FILE = 'tokenizer/added_tokens.json';

export interface GenerationModel {
  id: string;
  /** Identity of these exact weights, for caches. */
  key: string;
  folder: ModelFolder;
  schedulerConfig: unknown;
  tokenizer: PromptTokenizer;
  /** The compact vocabulary the tokenizer reads (small models), or null (CLIP's own ids, or none shipped). */
  vocabulary: CompactVocabulary | null;
  /** Image size the model was made for, and the multiple any size must be. */
  width: number;
  height: number;
  sizeMultiple: number;
  latentChannels: number;
  /** Pixels per latent along each axis. */
  vaeFactor: number;
  /**
   * A trained checkpoint: `folder` is then its base model's, and the pipeline reads `values` through `inputs`
   * instead of weights merged in, so every checkpoint of one `structure` samples from the same compiled sessions.
   */
  trained?: TrainedWeights;
}

/**
 * A training run's trainable values as the pipeline's UNet and text encoder read them: built with the training graph's
 * parameter names and rewrites (identifier rows, LoRA), then every parameter of `layout` read from one flat input, the
 * run's parameter vector, instead of baked in. GenerationPipeline.setTrainedValues points them at the values of the
 * moment, so validation samples during training need no rebuild and no copy through the CPU.
 */
export interface TrainedInputs {
  readonly layout: ParamLayout;
  /** The training graph's rewrites, applied to a component graph built with `prefixes`. */
  readonly rewrite: (graph: GraphBuilder) => GraphBuilder;
  readonly prefixes: { readonly unet: string; readonly textEncoder: string };
}

/** A checkpoint's trainable values and how the sampling graphs read them. */
export interface TrainedWeights {
  inputs: TrainedInputs;
  /** Identifies the sampling graphs `inputs` makes (base model, rewrites, layout), not the values. */
  structure: string;
  values: Float32Array;
}

const BUILTIN_DIR = '../../models/builtin/';

/**
 * The built-in model's weights and vocabulary, where pretraining has produced them (models/builtin/README.md), as
 * Vite bundles them: weights as hashed asset URLs (fetched when a pipeline loads; the service worker precaches them
 * for offline use), the vocabulary inline. Called only in browsers: `import.meta.glob` exists only under Vite.
 */
function bundledBuiltinFiles(): { weights: Map<string, string>; json: Map<string, unknown> } {
  const urls = import.meta.glob<string>('../../models/builtin/*/*.safetensors', { query: '?url', import: 'default', eager: true });
  const json = import.meta.glob<unknown>('../../models/builtin/tokenizer/*.json', { import: 'default', eager: true });
  const strip = <V>(m: Record<string, V>) => new Map(Object.entries(m).map(([path, v]) => [path.slice(BUILTIN_DIR.length), v]));
  return { weights: strip(urls), json: strip(json) };
}

/**
 * The built-in model: configs bundled with the app; weights and vocabulary from the bundle in browsers and from
 * models/builtin on disk in Node (tests, tools). A component without weights falls back to the seeded
 * initialisation, labelled untrained.
 */
export function builtinModelSource(): ModelSource {
  const files = new Map<string, unknown>([
    ['model_index.json', builtinIndex],
    ['scheduler/scheduler_config.json', builtinScheduler],
    ['text_encoder/config.json', builtinTextEncoder],
    ['unet/config.json', builtinUnet],
    ['vae/config.json', builtinVae],
  ]);
  const encode = (json: unknown) => new TextEncoder().encode(JSON.stringify(json));
  if (isNode()) {
    const disk = new URL(BUILTIN_DIR, import.meta.url);
    return { id: BUILTIN_MODEL_ID, revision: 'disk', read: async (path) => (files.has(path) ? encode(files.get(path)) : readNodeFile(new URL(path, disk))) };
  }
  const bundled = bundledBuiltinFiles();
  for (const [path, json] of bundled.json) files.set(path, json);
  return {
    id: BUILTIN_MODEL_ID,
    // Asset URLs carry content hashes, so caches keyed by revision follow the weights.
    revision: bundled.weights.size ? [...bundled.weights.values()].sort().join('|') : 'seeded-0',
    read: async (path) => {
      if (files.has(path)) return encode(files.get(path));
      const url = bundled.weights.get(path);
      if (url === undefined) return null;
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${path}: the server answered ${response.status} ${response.statusText}`);
      return new Uint8Array(await response.arrayBuffer());
    },
  };
}

/** A file's bytes in Node, or null when it does not exist (the specifier is computed so browser bundles skip node:fs). */
async function readNodeFile(url: URL): Promise<Uint8Array | null> {
  const fsModule = 'node:fs/promises';
  const { readFile } = (await import(/* @vite-ignore */ fsModule)) as typeof import('node:fs/promises');
  try {
    return new Uint8Array(await readFile(url));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Loads and checks a model for generation; errors name the file and problem. */
export async function loadGenerationModel(source: ModelSource): Promise<GenerationModel> {
  const folder = await loadModelFolder(source.read);
  const schedulerBytes = await source.read('scheduler/scheduler_config.json');
  if (schedulerBytes === null) throw new Error('scheduler/scheduler_config.json is missing');
  const schedulerConfig = parseJson(new TextDecoder().decode(schedulerBytes), 'scheduler/scheduler_config.json');
  const vocabularyBytes = await source.read(VOCABULARY_FILE);
  const vocabulary = vocabularyBytes === null ? null : CompactVocabulary.fromJSON(parseJson(new TextDecoder().decode(vocabularyBytes), VOCABULARY_FILE));
  const addedTokens = await readAddedTokens(source.read);
  const { unet, vae, textEncoder } = folder;
  if (unet.config.cross_attention_dim !== textEncoder.config.hidden_size) {
    throw new Error(
      `unet/config.json: cross_attention_dim ${unet.config.cross_attention_dim} differs from the text encoder's hidden_size ${textEncoder.config.hidden_size}`,
    );
  }
  if (unet.config.in_channels !== vae.config.latent_channels) {
    throw new Error(`unet/config.json: in_channels ${unet.config.in_channels} differs from the VAE's latent_channels ${vae.config.latent_channels}`);
  }
  const vaeFactor = 2 ** (vae.config.block_out_channels.length - 1);
  const unetFactor = 2 ** (unet.config.block_out_channels.length - 1);
  const latentSize = unet.config.sample_size ?? vae.config.sample_size / vaeFactor;
  return {
    id: source.id,
    key: `${source.id}@${source.revision}`,
    folder,
    schedulerConfig,
    tokenizer: promptTokenizerFor(textEncoder.config, vocabulary, addedTokens),
    vocabulary,
    width: latentSize * vaeFactor,
    height: latentSize * vaeFactor,
    sizeMultiple: vaeFactor * unetFactor,
    latentChannels: vae.config.latent_channels,
    vaeFactor,
  };
}

async function readAddedTokens(read: FolderReader): Promise<Map<string, number>> {
  const bytes = await read(ADDED_TOKENS_FILE);
  if (bytes === null) return new Map();
  const json = parseJson(new TextDecoder().decode(bytes), ADDED_TOKENS_FILE);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(ADDED_TOKENS_FILE, ['is not an object of token → id']);
  const entries = Object.entries(json as Record<string, unknown>);
  const bad = entries.find(([, id]) => !Number.isInteger(id));
  if (bad) throw new ConfigError(ADDED_TOKENS_FILE, [`/${bad[0]}: ${JSON.stringify(bad[1])} is not a token id`]);
  return new Map(entries as [string, number][]);
}
