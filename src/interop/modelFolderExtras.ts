/**
 * What a diffusers folder of a studio model needs beside its weights: the scheduler config and, for a model with a
 * compact vocabulary, that vocabulary — written as CLIP's tokenizer and a text encoder reading CLIP's ids
 * (clipVocabularyExport.ts). With `identifier`, the vocabulary has it bound to the row the run trained (as
 * bindIdentifier binds it), so the folder answers to it on its own (an added token). Shared by the worker's export
 * job and the Node tools.
 */
import type { GenerationModel } from '../generation/generationModel';
import { ClipTokenizer } from '../text/clipTokenizer';
import type { FolderExtras } from './diffusersFolder';

export function modelFolderExtras(model: GenerationModel, identifier?: string): FolderExtras {
  const vocabulary = identifier && model.vocabulary ? model.vocabulary.withIdentifier(identifier, ClipTokenizer.shared()) : model.vocabulary;
  return { schedulerConfig: model.schedulerConfig, ...(vocabulary ? { vocabulary } : {}) };
}
