/**
 * One call from a trainer checkpoint to the files a person takes to another tool: a LoRA file (+ the identifier's
 * embedding) when the run trained adapters, a full diffusers folder when it trained every UNet or text-encoder
 * weight. The settings and step come from the checkpoint itself; the caller adds what it does not hold.
 */
import type { CheckpointInfo } from '../dreambooth/jobTypes';
import { personalizedFolder, trainedValuesFromCheckpoint } from '../dreambooth/personalizedModel';
import { readCheckpoint } from '../dreambooth/trainer';
import type { ModelFolder } from '../model/folder';
import { baseModelHash } from './baseModelHash';
import { diffusersFolderFiles, type FolderExtras } from './diffusersFolder';
import { STUDIO_VERSION, type StudioExportMetadata } from './exportMetadata';
import { InteropError } from './interopError';
import { exportLora, type LoraNaming } from './loraFile';

/** diffusers' default LoRA file name (loaders/lora_base.py LORA_WEIGHT_NAME_SAFE): `load_lora_weights(dir)` finds it. */
export const PEFT_LORA_FILE = 'pytorch_lora_weights.safetensors';

export interface CheckpointExport {
  kind: 'lora' | 'diffusers-folder';
  /** File name (or folder path) → bytes. */
  files: Map<string, Uint8Array>;
  meta: StudioExportMetadata;
}

/**
 * @param extras for a full model: the scheduler config, and the compact vocabulary (identifier bound) or tokenizer files.
 * @throws InteropError when the file is not a studio checkpoint or its values do not fit `base`.
 */
export async function checkpointExport(
  file: Uint8Array,
  base: ModelFolder,
  info: Pick<CheckpointInfo, 'identifier' | 'classNoun'>,
  naming: LoraNaming,
  extras: FolderExtras = {},
): Promise<CheckpointExport> {
  let settings, step, values;
  try {
    ({
      meta: { settings, step },
    } = readCheckpoint(file));
    values = trainedValuesFromCheckpoint(file);
  } catch (e) {
    throw new InteropError(null, (e as Error).message);
  }
  const meta: StudioExportMetadata = {
    baseModel: await baseModelHash(base),
    identifier: info.identifier,
    classNoun: info.classNoun,
    steps: step,
    settings,
    studioVersion: STUDIO_VERSION,
  };
  if (settings.unet === 'full' || settings.textEncoder === 'full') {
    let folder;
    try {
      folder = personalizedFolder(base, values);
    } catch (e) {
      throw new InteropError(null, (e as Error).message);
    }
    return { kind: 'diffusers-folder', files: diffusersFolderFiles(folder, meta, extras), meta };
  }
  const { lora, embedding } = exportLora(values, meta, naming);
  const name = fileStem(info.identifier);
  const files = new Map([[naming === 'peft' ? PEFT_LORA_FILE : `${name}_${fileStem(info.classNoun)}_lora.safetensors`, lora]]);
  // AUTOMATIC1111 takes an embedding's token from its file name.
  if (embedding) files.set(`${name}.safetensors`, embedding);
  return { kind: 'lora', files, meta };
}

const fileStem = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '_') || 'subject';
