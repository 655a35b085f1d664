/**
 * A model ready for generation: its diffusers folder (configs + weights or seeded fallback), scheduler config
 * and prompt tokenizer. Models come from sources registered by id; the built-in model is bundled.
 */
import builtinIndex from '../../models/builtin/model_index.json';
import builtinScheduler from '../../models/builtin/scheduler/scheduler_config.json';
import builtinTextEncoder from '../../models/builtin/text_encoder/config.json';
import builtinUnet from '../../models/builtin/unet/config.json';
import builtinVae from '../../models/builtin/vae/config.json';
import { parseJson } from '../model/configErrors';
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

export interface GenerationModel {
  id: string;
  /** Identity of these exact weights, for caches. */
  key: string;
  folder: ModelFolder;
  schedulerConfig: unknown;
  tokenizer: PromptTokenizer;
  /** Image size the model was made for, and the multiple any size must be. */
  width: number;
  height: number;
  sizeMultiple: number;
  latentChannels: number;
  /** Pixels per latent along each axis. */
  vaeFactor: number;
}

/** The built-in model: configs bundled with the app; no weights yet, so the seeded initialisation (labelled untrained). */
export function builtinModelSource(): ModelSource {
  const files: Record<string, unknown> = {
    'model_index.json': builtinIndex,
    'scheduler/scheduler_config.json': builtinScheduler,
    'text_encoder/config.json': builtinTextEncoder,
    'unet/config.json': builtinUnet,
    'vae/config.json': builtinVae,
  };
  return {
    id: BUILTIN_MODEL_ID,
    revision: 'seeded-0',
    read: async (path) => (path in files ? new TextEncoder().encode(JSON.stringify(files[path])) : null),
  };
}

/** Loads and checks a model for generation; errors name the file and problem. */
export async function loadGenerationModel(source: ModelSource): Promise<GenerationModel> {
  const folder = await loadModelFolder(source.read);
  const schedulerBytes = await source.read('scheduler/scheduler_config.json');
  if (schedulerBytes === null) throw new Error('scheduler/scheduler_config.json is missing');
  const schedulerConfig = parseJson(new TextDecoder().decode(schedulerBytes), 'scheduler/scheduler_config.json');
  const vocabularyBytes = await source.read(VOCABULARY_FILE);
  const vocabulary =
    vocabularyBytes === null ? null : CompactVocabulary.fromJSON(parseJson(new TextDecoder().decode(vocabularyBytes), VOCABULARY_FILE));
  const { unet, vae, textEncoder } = folder;
  if (unet.config.cross_attention_dim !== textEncoder.config.hidden_size) {
    throw new Error(`unet/config.json: cross_attention_dim ${unet.config.cross_attention_dim} differs from the text encoder's hidden_size ${textEncoder.config.hidden_size}`);
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
    tokenizer: promptTokenizerFor(textEncoder.config, vocabulary),
    width: latentSize * vaeFactor,
    height: latentSize * vaeFactor,
    sizeMultiple: vaeFactor * unetFactor,
    latentChannels: vae.config.latent_channels,
    vaeFactor,
  };
}
