/**
 * What the export and import jobs need of a base model besides its weights: its hash (which model a LoRA belongs to)
 * and what a diffusers folder needs beside the weights (scheduler config, the compact vocabulary).
 */
import type { GenerationModel } from '../generation/generationModel';
import type { FolderExtras } from '../interop/diffusersFolder';
import { baseModelHash } from '../interop/loraFile';
import { ClipTokenizer } from '../text/clipTokenizer';

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

/**
 * The scheduler config and compact vocabulary of `model` for a diffusers folder, which then holds CLIP's tokenizer and
 * a text encoder reading CLIP's ids (src/interop/clipVocabularyExport.ts); with `identifier`, the vocabulary has it
 * bound to the row it trained (as bindIdentifier binds it), so the folder answers to it on its own (an added token).
 */
export function folderExtras(model: GenerationModel, identifier?: string): FolderExtras {
  const vocabulary = identifier && model.vocabulary ? model.vocabulary.withIdentifier(identifier, ClipTokenizer.shared()) : model.vocabulary;
  return {
    schedulerConfig: model.schedulerConfig,
    ...(vocabulary ? { vocabulary } : {}),
  };
}
