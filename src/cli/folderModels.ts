/**
 * Model ids `folder:<absolute path>`: a diffusers-layout model folder on disk, as the Node tools take it (--model).
 * Its cache key changes when a weight file does (size and modification time), so class images made with other
 * weights at the same path are not taken for this model's. A folder missing a weights file is refused.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadGenerationModel, type GenerationModel } from '../generation/generationModel';
import { JobError } from '../protocol/jobs';
import type { ModelResolver } from '../generation/generationService';
import { WEIGHT_FILES } from '../model/folder';
import { nodeFolderReader } from '../model/nodeFolder';

const FOLDER_PREFIX = 'folder:';

export const folderModelId = (dir: string) => `${FOLDER_PREFIX}${resolve(dir)}`;

export const folderModels: ModelResolver = (modelId) => (modelId.startsWith(FOLDER_PREFIX) ? loadFolderModel(modelId.slice(FOLDER_PREFIX.length)) : undefined);

/** The diffusers folder `dir` as a model (id `folder:<dir>`); refused, naming the files, when a weights file is missing. */
export async function loadFolderModel(dir: string): Promise<GenerationModel> {
  const revision = Object.values(WEIGHT_FILES)
    .map((file) => {
      const s = statSync(join(dir, file), { throwIfNoEntry: false });
      return s ? `${s.size}.${s.mtimeMs}` : '-';
    })
    .join('/');
  const model = await loadGenerationModel({ id: folderModelId(dir), revision, read: nodeFolderReader(dir) });
  // A component without its weights file would run on random weights: a folder the tools cannot use.
  const missing = (['unet', 'vae', 'text_encoder'] as const).filter((part) => model.folder[PART[part]].untrained);
  if (missing.length > 0) {
    const files = missing.map((part) => WEIGHT_FILES[part]).join(', ');
    throw new JobError('bad-input', `${dir} has no ${files}: give a diffusers folder with every weights file (safetensors)`, 'model');
  }
  return model;
}

const PART = { unet: 'unet', vae: 'vae', text_encoder: 'textEncoder' } as const;
