/**
 * Model ids of trained checkpoints (`checkpoint:<subjectId>:<checkpointId>`, see checkpointModelId) resolved for
 * the generation service: the base model with the identifier bound, sampling the checkpoint's trainable values as
 * inputs of its graphs (not merged into its weights), so switching between checkpoints of one run compiles nothing.
 */
import type { UseStore } from 'idb-keyval';
import type { ParamLayout } from '../engine/optim/flatParams';
import { STATE } from '../engine/optim/trainStep';
import type { GenerationModel } from '../generation/generationModel';
import type { ModelResolver } from '../generation/generationService';
import { JobError } from '../protocol/jobs';
import { sha256Hex } from '../storage/contentHash';
import { loadCheckpoint } from '../storage/dreamboothRecords';
import { bindIdentifier } from './identifierBinding';
import { readCheckpoint } from './trainer';
import { trainedInputsFor } from './trainGraph';

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
      const { tokenizer } = bindIdentifier(baseModel, saved.info.identifier);
      return checkpointModel(baseModel, new Uint8Array(await state.arrayBuffer()), { id: modelId, key: `${modelId}@${baseModel.key}`, tokenizer });
    })();
  };
}

/** `base` sampling a checkpoint file's trainable values, under the checkpoint's id and cache key. */
export async function checkpointModel(base: GenerationModel, file: Uint8Array, o: Pick<GenerationModel, 'id' | 'key' | 'tokenizer'>): Promise<GenerationModel> {
  const { meta, state } = readCheckpoint(file);
  const params = state[STATE.params]!;
  const layout: ParamLayout = { entries: meta.layout, size: params.length };
  const { unet, textEncoder } = meta.settings;
  // What the sampling graphs are made of; the LoRA seed only sets initial values, which the inputs replace.
  const adapters = meta.adapters.map((a) => [a.base, a.rank, a.alpha]);
  const shape = { base: base.key, unet, textEncoder, adapters, rows: meta.identifierRows, layout: meta.layout };
  return {
    ...base,
    ...o,
    trained: {
      inputs: trainedInputsFor(meta.settings, meta.identifierRows, layout, meta.adapters),
      structure: await sha256Hex(new TextEncoder().encode(JSON.stringify(shape))),
      // A copy, so the file (with both optimizer moments) is not kept alive by a view of it.
      values: params.slice(),
    },
  };
}
