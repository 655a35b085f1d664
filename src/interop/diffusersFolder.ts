/**
 * A model as the files of a diffusers Stable Diffusion folder — the layout models/builtin has and
 * `StableDiffusionPipeline.from_pretrained(dir)` reads:
 *
 *   model_index.json
 *   unet/config.json            unet/diffusion_pytorch_model.safetensors     (UNet2DConditionModel)
 *   vae/config.json             vae/diffusion_pytorch_model.safetensors      (AutoencoderKL)
 *   text_encoder/config.json    text_encoder/model.safetensors               (transformers CLIPTextModel)
 *   scheduler/scheduler_config.json
 *   tokenizer/…                 CLIP's tokenizer for a model with a compact vocabulary (its text encoder rewritten to
 *                               read CLIP's ids: clipVocabularyExport.ts), and whatever tokenizer files the caller passes
 *
 * and such a folder read back, refused unless the studio can run it. Pure: the caller writes or zips the files
 * (src/pretrain/modelWriter.ts on disk, the worker into a download).
 */
import builtinScheduler from '../../models/builtin/scheduler/scheduler_config.json';
import { loadGenerationModel } from '../generation/generationModel';
import { ConfigError } from '../model/configErrors';
import { WEIGHT_FILES, type FolderReader, type ModelFolder } from '../model/folder';
import { buildTextEncoderGraph, buildUNetGraph, buildVAEDecoderGraph, buildVAEEncoderGraph } from '../model/graphs';
import { writeSafetensors } from '../model/safetensors';
import type { CompactVocabulary } from '../text/compactVocabulary';
import { CLIP_TOKENIZER_FILES } from './clipTokenizerFiles';
import { clipVocabularyModel } from './clipVocabularyExport';
import { componentTensors, type ComponentName } from '../model/componentTensors';
import { studioMetadataStrings, type StudioExportMetadata } from './exportMetadata';
import { InteropError } from './interopError';

export interface FolderExtras {
  /** scheduler/scheduler_config.json; default the built-in model's (SD 1.x's scaled-linear 1000-step DDIM). */
  schedulerConfig?: unknown;
  /** Tokenizer files by folder path (e.g. `tokenizer/vocab.json`). */
  tokenizerFiles?: ReadonlyMap<string, Uint8Array>;
  /**
   * The compact vocabulary the text encoder reads, when it reads one: the folder then gets CLIP's tokenizer and a text
   * encoder reading CLIP's ids, with the vocabulary's bound identifiers as added tokens (clipVocabularyExport.ts).
   */
  vocabulary?: CompactVocabulary;
  /** Stored dtype of the weights; default F32 (what the studio computes in, so nothing is rounded). */
  dtype?: 'F32' | 'F16';
}

export const CONFIG_FILES = {
  unet: 'unet/config.json',
  vae: 'vae/config.json',
  text_encoder: 'text_encoder/config.json',
  scheduler: 'scheduler/scheduler_config.json',
  index: 'model_index.json',
} as const;

/** The pipeline index diffusers writes for an SD 1.x pipeline without safety checker. */
const DEFAULT_INDEX = {
  _class_name: 'StableDiffusionPipeline',
  feature_extractor: [null, null],
  requires_safety_checker: false,
  safety_checker: [null, null],
  scheduler: ['diffusers', 'DDIMScheduler'],
  text_encoder: ['transformers', 'CLIPTextModel'],
  tokenizer: [null, null],
  unet: ['diffusers', 'UNet2DConditionModel'],
  vae: ['diffusers', 'AutoencoderKL'],
};

export function diffusersFolderFiles(model: ModelFolder, meta?: StudioExportMetadata, extras: FolderExtras = {}): Map<string, Uint8Array> {
  const clip = extras.vocabulary ? clipVocabularyModel(model, extras.vocabulary) : null;
  const folder = clip?.folder ?? model;
  const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
  const metadata = { format: 'pt', ...(meta ? studioMetadataStrings(meta) : {}) };
  const weights = (part: ComponentName) => writeSafetensors(new Map(componentTensors(folder, part)), { metadata, dtype: extras.dtype ?? 'F32' });
  const files = new Map<string, Uint8Array>([
    // from_pretrained loads no tokenizer where the index names none ([null, null], as a compact-vocabulary model's has).
    [
      CONFIG_FILES.index,
      json({
        ...(folder.index ?? DEFAULT_INDEX),
        ...(clip || extras.tokenizerFiles?.has(CLIP_TOKENIZER_FILES.vocab) ? { tokenizer: ['transformers', 'CLIPTokenizer'] } : {}),
      }),
    ],
    // The parsed configs are the files' own keys with diffusers' / transformers' defaults filled in.
    [CONFIG_FILES.unet, json({ _class_name: 'UNet2DConditionModel', ...folder.unet.config })],
    [WEIGHT_FILES.unet, weights('unet')],
    [CONFIG_FILES.vae, json({ _class_name: 'AutoencoderKL', ...folder.vae.config })],
    [WEIGHT_FILES.vae, weights('vae')],
    // transformers' AutoConfig needs model_type; from_pretrained reads the class from model_index.json.
    [CONFIG_FILES.text_encoder, json({ architectures: ['CLIPTextModel'], model_type: 'clip_text_model', ...folder.textEncoder.config })],
    [WEIGHT_FILES.text_encoder, weights('text_encoder')],
    [CONFIG_FILES.scheduler, json(extras.schedulerConfig ?? builtinScheduler)],
  ]);
  for (const [path, bytes] of [...(clip?.tokenizerFiles ?? []), ...(extras.tokenizerFiles ?? [])]) files.set(path, bytes);
  return files;
}

/**
 * Loads a diffusers folder with the studio's own loader and checks that the studio can run it: every config key
 * supported, the components fit each other, every component has weights, and the weights are exactly the
 * parameters the studio's graphs use.
 * @throws InteropError naming the file (and, for configs, the field).
 */
export async function importDiffusersFolder(read: FolderReader): Promise<ModelFolder> {
  let folder: ModelFolder;
  try {
    folder = (await loadGenerationModel({ id: 'import', revision: 'import', read })).folder;
  } catch (e) {
    if (e instanceof ConfigError) throw new InteropError(e.source, e.problems.join('; '));
    throw new InteropError(null, (e as Error).message);
  }
  const parts = { unet: folder.unet, vae: folder.vae, text_encoder: folder.textEncoder };
  for (const [part, c] of Object.entries(parts) as [ComponentName, (typeof parts)[ComponentName]][]) {
    if (c.untrained) throw new InteropError(WEIGHT_FILES[part], 'is missing: the studio imports trained models only');
  }
  const checked = (part: ComponentName, build: () => unknown) => {
    try {
      build();
    } catch (e) {
      throw new InteropError(WEIGHT_FILES[part], (e as Error).message);
    }
  };
  const { unet, vae, textEncoder } = folder;
  checked('unet', () => buildUNetGraph(unet.config, unet.weights, { batch: 1, textLength: textEncoder.config.max_position_embeddings }));
  checked('vae', () => [buildVAEEncoderGraph(vae.config, vae.weights, { batch: 1 }), buildVAEDecoderGraph(vae.config, vae.weights, { batch: 1 })]);
  checked('text_encoder', () => buildTextEncoderGraph(textEncoder.config, textEncoder.weights, { batch: 1 }));
  return folder;
}
