/**
 * Model ids `folder:<absolute path>`: a diffusers-layout model folder on disk, as the Node tools take it (--model).
 * Its cache key changes when a weight file does (size and modification time), so class images made with other
 * weights at the same path are not taken for this model's.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadGenerationModel } from '../generation/generationModel';
import type { ModelResolver } from '../generation/generationService';
import { WEIGHT_FILES } from '../model/folder';
import { nodeFolderReader } from '../model/nodeFolder';

const FOLDER_PREFIX = 'folder:';

export const folderModelId = (dir: string) => `${FOLDER_PREFIX}${resolve(dir)}`;

export const folderModels: ModelResolver = (modelId) => {
  if (!modelId.startsWith(FOLDER_PREFIX)) return undefined;
  const dir = modelId.slice(FOLDER_PREFIX.length);
  const revision = Object.values(WEIGHT_FILES)
    .map((file) => {
      const s = statSync(join(dir, file), { throwIfNoEntry: false });
      return s ? `${s.size}.${s.mtimeMs}` : '-';
    })
    .join('/');
  return loadGenerationModel({ id: modelId, revision, read: nodeFolderReader(dir) });
};
