/**
 * What a diffusers folder of a studio model needs beside its weights: the scheduler config and its tokenizer. A model
 * with a compact vocabulary gets that vocabulary — written as CLIP's tokenizer and a text encoder reading CLIP's ids
 * (clipVocabularyExport.ts); with `identifier`, bound to the row the run trained (as bindIdentifier binds it), so the
 * folder answers to it on its own (an added token). A model reading CLIP's ids (SD 1.x, an imported folder) gets CLIP's
 * tokenizer with its own added tokens. Shared by the worker's export job and the Node tools.
 */
import type { GenerationModel } from '../generation/generationModel';
import { ClipTokenizer } from '../text/clipTokenizer';
import { clipTokenizerFiles } from './clipTokenizerFiles';
import type { FolderExtras } from './diffusersFolder';

export function modelFolderExtras(model: GenerationModel, identifier?: string): FolderExtras {
  if (model.tokenizer.kind === 'clip') return { schedulerConfig: model.schedulerConfig, tokenizerFiles: clipTokenizerFiles(model.tokenizer.addedTokens) };
  const vocabulary = identifier && model.vocabulary ? model.vocabulary.withIdentifier(identifier, ClipTokenizer.shared()) : model.vocabulary;
  return { schedulerConfig: model.schedulerConfig, ...(vocabulary ? { vocabulary } : {}) };
}
