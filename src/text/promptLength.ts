import { CLIP_CONTEXT_LENGTH, type ClipTokenizer } from './clipTokenizer';

/** How much of a prompt the text encoder reads, as the counters of other SD tools show it ("12/75"). */
export interface PromptLength {
  /** BPE tokens of the prompt (start and end tokens not counted). */
  tokens: number;
  /** Tokens the encoder reads: its context length less the start and end tokens (75 for SD 1.x). */
  limit: number;
  /** The words past the limit, which the encoder never sees; empty when the prompt fits. */
  cut: string;
}

/** Counts `text`'s tokens and names what a `contextLength`-token text encoder cuts off. */
export function measurePrompt(tokenizer: ClipTokenizer, text: string, contextLength = CLIP_CONTEXT_LENGTH): PromptLength {
  const ids = tokenizer.encode(text);
  const limit = contextLength - 2;
  return { tokens: ids.length, limit, cut: ids.length > limit ? tokenizer.decode(ids.slice(limit)) : '' };
}
