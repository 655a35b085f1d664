/**
 * Model ids of trained checkpoints (`checkpoint:<subjectId>:<checkpointId>`, see checkpointModelId) resolved for
 * the generation service: the checkpoint file from IndexedDB applied to its base model, with the identifier bound.
 */
import type { UseStore } from 'idb-keyval';
import type { ModelResolver } from '../generation/generationService';
import { JobError } from '../protocol/jobs';
import { loadCheckpoint } from '../storage/dreamboothRecords';
import { bindIdentifier } from './identifierBinding';
import { personalizedModel, trainedValuesFromCheckpoint } from './personalizedModel';

const PREFIX = 'checkpoint:';

export function parseCheckpointModelId(modelId: string): { subjectId: string; checkpointId: string } | null {
  if (!modelId.startsWith(PREFIX)) return null;
  const rest = modelId.slice(PREFIX.length);
  const cut = rest.lastIndexOf(':');
  if (cut <= 0 || cut === rest.length - 1) return null;
  return { subjectId: rest.slice(0, cut), checkpointId: rest.slice(cut + 1) };
}

export function checkpointModels(store: UseStore): ModelResolver {
  return (modelId, base) => {
    const ids = parseCheckpointModelId(modelId);
    if (!ids) return undefined;
    return (async () => {
      const saved = await loadCheckpoint(store, ids.subjectId, ids.checkpointId);
      if (!saved || saved.info.id !== ids.checkpointId) {
        throw new JobError(
          'bad-input',
          `checkpoint ${ids.checkpointId} is no longer stored (deleted, or damaged${saved?.note ? `: ${saved.note}` : ''}); pick another model`,
          'modelId',
        );
      }
      const state = saved.parts.state;
      if (!state) throw new JobError('bad-input', `checkpoint ${ids.checkpointId} has no weights; pick another model`, 'modelId');
      const baseModel = await base(saved.info.baseModelId);
      const values = trainedValuesFromCheckpoint(new Uint8Array(await state.arrayBuffer()));
      const { tokenizer } = bindIdentifier(baseModel, saved.info.identifier);
      return personalizedModel(baseModel, values, { id: modelId, key: `${modelId}@${baseModel.key}`, tokenizer });
    })();
  };
}
