import type { CLIPTextConfig } from '../model/config';
import { ClipTokenizer } from '../text/clipTokenizer';
import { CompactVocabulary } from '../text/compactVocabulary';

/** Turns a prompt into the token ids a model's text encoder reads (always `length` ids, padded). */
export interface PromptTokenizer {
  /** Describes the id space (part of the text-embedding cache key). */
  readonly kind: 'clip' | 'compact';
  readonly length: number;
  /** Tokens after CLIP's vocabulary (`tokenizer/added_tokens.json`, e.g. an exported subject's identifier) → their ids. */
  readonly addedTokens: ReadonlyMap<string, number>;
  tokenize(text: string): Int32Array;
}

/**
 * The tokenizer a text encoder needs: CLIP's own ids when its embedding table holds the whole CLIP vocabulary
 * (SD 1.x folders), otherwise the rows of the model's compact vocabulary (src/text/compactVocabulary.ts).
 * A small model without a vocabulary maps every word to `<unk>` — only its start, end and padding rows differ
 * between prompts — which is all an untrained model can mean; a trained model ships its vocabulary.
 * `addedTokens` (CLIP ids only) are cut out of prompts as transformers' CLIPTokenizer cuts them.
 * @throws when the vocabulary has more rows than the embedding table, or an added token's id is outside it.
 */
export function promptTokenizerFor(
  config: CLIPTextConfig,
  vocabulary: CompactVocabulary | null,
  addedTokens: ReadonlyMap<string, number> = new Map(),
): PromptTokenizer {
  const clip = ClipTokenizer.shared();
  const length = config.max_position_embeddings;
  if (vocabulary === null && config.vocab_size >= clip.vocabularySize) {
    for (const [token, id] of addedTokens) {
      if (!Number.isInteger(id) || id < 0 || id >= config.vocab_size)
        throw new Error(`added token "${token}" has id ${id}, outside the text encoder's ${config.vocab_size} rows`);
    }
    return { kind: 'clip', length, addedTokens, tokenize: (text) => clip.tokenize(text, { maxLength: length, addedTokens }).ids };
  }
  const vocab = vocabulary ?? CompactVocabulary.fromTexts([], clip, 0);
  if (vocab.rowCount > config.vocab_size) {
    throw new Error(`the compact vocabulary has ${vocab.rowCount} rows but the text encoder's vocab_size is ${config.vocab_size}`);
  }
  return { kind: 'compact', length, addedTokens: new Map(), tokenize: (text) => vocab.tokenize(text, clip, length).ids };
}
