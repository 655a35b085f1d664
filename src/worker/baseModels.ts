/** What the export and import jobs need of a base model besides its weights: its hash (which model a LoRA belongs to). */
import type { GenerationModel } from '../generation/generationModel';
import { baseModelHash } from '../interop/loraFile';

/** Loads a model by id (the generation service's cache). */
export type ModelLoader = (modelId: string) => Promise<GenerationModel>;

// Hashing reads every UNet and text-encoder weight: once per set of weights (GenerationModel.key) per worker.
const hashes = new Map<string, Promise<string>>();

export function modelHash(model: GenerationModel): Promise<string> {
  let hash = hashes.get(model.key);
  if (!hash) {
    hash = baseModelHash(model.folder);
    hashes.set(model.key, hash);
    hash.catch(() => hashes.delete(model.key));
  }
  return hash;
}
