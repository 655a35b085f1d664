/**
 * Binds a subject's identifier word to embedding rows of the model's text encoder:
 * - a small model with a compact vocabulary gives it a fresh reserved row (src/text/compactVocabulary.ts), so
 *   "a photo of zovy dog" teaches a new embedding instead of overwriting a known word;
 * - a model reading CLIP's own ids (SD 1.x) uses the identifier's BPE tokens as they are, as DreamBooth does with "sks",
 *   or its added token (a studio export's `added_tokens.json`);
 * - a model with neither (no vocabulary shipped) cannot tell the identifier from any unknown word: training still
 *   runs on the prompt, but the identifier's own embedding cannot be trained.
 */
import type { GenerationModel } from '../generation/generationModel';
import { promptTokenizerFor, type PromptTokenizer } from '../generation/promptTokens';
import { ClipTokenizer } from '../text/clipTokenizer';
import { CompactVocabularyError } from '../text/compactVocabulary';
import { JobError } from '../protocol/jobs';

export interface IdentifierBinding {
  tokenizer: PromptTokenizer;
  /** Embedding rows of the identifier's tokens (empty when it cannot be bound). */
  rows: number[];
}

export function bindIdentifier(model: GenerationModel, identifier: string): IdentifierBinding {
  const clip = ClipTokenizer.shared();
  const config = model.folder.textEncoder.config;
  if (model.tokenizer.kind === 'clip') return { tokenizer: model.tokenizer, rows: clip.encode(identifier.toLowerCase(), model.tokenizer.addedTokens) };
  if (!model.vocabulary || model.vocabulary.reservedRows === 0) return { tokenizer: model.tokenizer, rows: [] };
  try {
    const vocabulary = model.vocabulary.withIdentifier(identifier, clip);
    return { tokenizer: promptTokenizerFor(config, vocabulary), rows: [vocabulary.identifierRow(identifier)!] };
  } catch (e) {
    if (e instanceof CompactVocabularyError) throw new JobError('bad-input', `${e.issues[0]!.message}; change it on the Subject step`, 'identifier');
    throw e;
  }
}
