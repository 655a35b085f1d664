/**
 * Model ids of imported models (`imported:<id>`, see importedModelId) resolved for the generation service, as
 * src/dreambooth/checkpointModels.ts does for trained checkpoints: a LoRA is read again against its base model and
 * merged into it with its identifier bound; a diffusers folder is loaded from its stored files.
 */
import type { UseStore } from 'idb-keyval';
import { bindIdentifier } from '../dreambooth/identifierBinding';
import { personalizedModel } from '../dreambooth/personalizedModel';
import { loadGenerationModel, type GenerationModel } from '../generation/generationModel';
import type { ModelResolver } from '../generation/generationService';
import { importLora } from '../interop/loraFile';
import { JobError } from '../protocol/jobs';
import { loadImportedModel } from '../storage/importedModels';
import { modelHash } from './baseModels';

const PREFIX = 'imported:';
/** Where an imported LoRA's files are stored (the person's file names live on in the model's name). */
export const LORA_FILE = 'lora.safetensors';
export const EMBEDDING_FILE = 'embedding.safetensors';

export function importedModels(store: UseStore): ModelResolver {
  return (modelId, base) => {
    if (!modelId.startsWith(PREFIX) || modelId.length === PREFIX.length) return undefined;
    const id = modelId.slice(PREFIX.length);
    return (async () => {
      const stored = await loadImportedModel(store, id);
      if (!stored)
        throw new JobError('bad-input', 'this imported model is no longer stored (deleted, or its files are damaged); pick another model', 'modelId');
      const read = async (path: string) => {
        const blob = stored.files.get(path);
        return blob ? new Uint8Array(await blob.arrayBuffer()) : null;
      };
      const { info } = stored;
      if (info.kind === 'diffusers') return loadGenerationModel({ id: modelId, revision: id, read });
      const baseModel = await base(info.baseModelId!);
      return loraModel(baseModel, (await read(LORA_FILE))!, await read(EMBEDDING_FILE), info.identifier, modelId);
    })();
  };
}

/**
 * A LoRA file (and its embedding) applied to `base` under `modelId`: what sampling uses, and what the import job
 * builds once to check the files before storing them. The identifier is bound as training binds it, so an embedding
 * exported by the studio lands on the rows it trained.
 * @throws InteropError naming the key and the reason when the files do not fit `base`.
 */
export async function loraModel(
  base: GenerationModel,
  lora: Uint8Array,
  embedding: Uint8Array | null,
  identifier: string | undefined,
  modelId: string,
): Promise<GenerationModel> {
  const binding = identifier ? bindIdentifier(base, identifier) : { tokenizer: base.tokenizer, rows: [] };
  const { values } = importLora(lora, base.folder, await modelHash(base), embedding ? { embedding, identifierRows: binding.rows } : {});
  return personalizedModel(base, values, { id: modelId, key: `${modelId}@${base.key}`, tokenizer: binding.tokenizer });
}
