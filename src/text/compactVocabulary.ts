import { describeSchemaErrors, type FieldIssue } from '../validation/schemaMessages';
import { validateCompactVocabulary } from '../validation/validators.generated.js';
import { IDENTIFIER_PATTERN } from './compactVocabularySchema';
import { END_OF_TEXT_ID, START_OF_TEXT_ID, frameTokens, literalAlternatives, type ClipTokenizer, type TokenizedText } from './clipTokenizer';

/**
 * A small model's embedding table indexed by compact rows instead of CLIP's 49,408 ids:
 *
 *   row 0, row 1          `<|startoftext|>`, `<|endoftext|>` — fixed, so a text encoder config can name them
 *                         (`bos_token_id` 0, `eos_token_id` = `pad_token_id` 1; not 2, which transformers
 *                         reads as its legacy argmax pooling)
 *   row 2                 `<unk>`: every CLIP id the model was not trained on
 *   rows 3 … K+2          the other CLIP ids the model knows, in `clipIds` order
 *   rows K+3 … K+R+2      reserved for subject identifiers, handed out in order by `withIdentifier`
 *
 * A bound identifier (e.g. "sks") is matched as a whole word in prompts and maps to its own fresh
 * row, so "a photo of sks dog" teaches a new embedding instead of retraining a word the model
 * already uses. Padding uses the end-of-text row, as SD 1.x pads with `<|endoftext|>`.
 */
export interface CompactVocabularyJson {
  format: 'clip-compact-vocabulary';
  version: 1;
  /** CLIP BPE id of each known row, rows 3 … K+2 (start and end have their fixed rows and are not listed). */
  clipIds: number[];
  /** How many identifier rows follow the known ones. */
  reservedRows: number;
  /** Identifiers bound so far; identifier i owns row K + 3 + i. */
  identifiers: string[];
}

export const START_ROW = 0;
export const END_ROW = 1;
export const UNK_ROW = 2;
/** Rows before the first known id. */
const FIXED_ROWS = 3;

/** Invalid vocabulary data or a refused identifier, with the offending field(s). */
export class CompactVocabularyError extends Error {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[]) {
    super(`compact vocabulary: ${issues.map((i) => i.message).join('; ')}`);
    this.name = 'CompactVocabularyError';
    this.issues = issues;
  }
}

export class CompactVocabulary {
  private readonly clipIds: readonly number[];
  private readonly rowByClipId: ReadonlyMap<number, number>;
  readonly reservedRows: number;
  readonly identifiers: readonly string[];

  private constructor(clipIds: readonly number[], reservedRows: number, identifiers: readonly string[]) {
    this.clipIds = clipIds;
    this.rowByClipId = new Map([[START_OF_TEXT_ID, START_ROW], [END_OF_TEXT_ID, END_ROW], ...clipIds.map((id, i): [number, number] => [id, FIXED_ROWS + i])]);
    this.reservedRows = reservedRows;
    this.identifiers = identifiers;
  }

  /** Vocabulary of every CLIP id in `texts` (e.g. a training set's captions), sorted by id. */
  static fromTexts(texts: Iterable<string>, tokenizer: ClipTokenizer, reservedRows: number): CompactVocabulary {
    const ids = new Set<number>();
    for (const text of texts) for (const id of tokenizer.encode(text)) ids.add(id);
    return CompactVocabulary.fromJSON({
      format: 'clip-compact-vocabulary',
      version: 1,
      clipIds: [...ids].sort((a, b) => a - b),
      reservedRows,
      identifiers: [],
    });
  }

  /** Checks and loads saved vocabulary JSON. @throws CompactVocabularyError naming each bad field. */
  static fromJSON(json: unknown): CompactVocabulary {
    if (!validateCompactVocabulary(json)) throw new CompactVocabularyError(describeSchemaErrors(validateCompactVocabulary.errors));
    const data = json as CompactVocabularyJson;
    const issues: FieldIssue[] = [];
    const seen = new Set<number>();
    data.clipIds.forEach((id, i) => {
      if (seen.has(id)) issues.push({ field: `/clipIds/${i}`, message: `/clipIds/${i} repeats CLIP id ${id}` });
      if (id === START_OF_TEXT_ID || id === END_OF_TEXT_ID) {
        issues.push({
          field: `/clipIds/${i}`,
          message: `/clipIds/${i}: the start/end-of-text ids have fixed rows ${START_ROW} and ${END_ROW}; leave them out`,
        });
      }
      seen.add(id);
    });
    if (data.identifiers.length > data.reservedRows) {
      issues.push({ field: '/identifiers', message: `/identifiers has ${data.identifiers.length} entries but /reservedRows is ${data.reservedRows}` });
    }
    const lower = data.identifiers.map((s) => s.toLowerCase());
    lower.forEach((name, i) => {
      if (lower.indexOf(name) !== i) issues.push({ field: `/identifiers/${i}`, message: `/identifiers/${i} repeats "${name}"` });
    });
    if (issues.length) throw new CompactVocabularyError(issues);
    return new CompactVocabulary([...data.clipIds], data.reservedRows, lower);
  }

  toJSON(): CompactVocabularyJson {
    return {
      format: 'clip-compact-vocabulary',
      version: 1,
      clipIds: [...this.clipIds],
      reservedRows: this.reservedRows,
      identifiers: [...this.identifiers],
    };
  }

  /** Rows in the embedding table: start, end, `<unk>`, the known ids, the reserved rows. */
  get rowCount(): number {
    return FIXED_ROWS + this.clipIds.length + this.reservedRows;
  }

  /** Row of a CLIP id; `UNK_ROW` when the model does not know it. */
  rowOf(clipId: number): number {
    return this.rowByClipId.get(clipId) ?? UNK_ROW;
  }

  /** Row owned by a bound identifier. */
  identifierRow(name: string): number | undefined {
    const index = this.identifiers.indexOf(name.toLowerCase());
    return index < 0 ? undefined : FIXED_ROWS + this.clipIds.length + index;
  }

  /**
   * A copy with `name` bound to the next reserved row. Refuses names that are malformed, already
   * bound, made only of ids the model knows (that would hijack an existing word), or when no
   * reserved row is left.
   */
  withIdentifier(name: string, tokenizer: ClipTokenizer): CompactVocabulary {
    const lower = name.toLowerCase();
    const refuse = (message: string): never => {
      throw new CompactVocabularyError([{ field: 'identifier', message }]);
    };
    if (!new RegExp(IDENTIFIER_PATTERN, 'u').test(name)) {
      refuse(`identifier "${name}" must be 1–32 letters, digits, "_", "-", "<" or ">" with no spaces`);
    }
    if (this.identifiers.includes(lower)) refuse(`identifier "${name}" is already bound`);
    if (this.identifiers.length >= this.reservedRows) refuse(`all ${this.reservedRows} reserved identifier rows are in use`);
    if (tokenizer.encode(lower).every((id) => this.rowByClipId.has(id))) {
      refuse(`identifier "${name}" is made of words the model already knows; choose a rare token such as "sks"`);
    }
    return new CompactVocabulary(this.clipIds, this.reservedRows, [...this.identifiers, lower]);
  }

  /**
   * Rows for a prompt, framed like CLIP input (start row, rows, end row, padded with the end row to
   * `maxLength`). Bound identifiers are matched case-insensitively as whole words.
   */
  tokenize(text: string, tokenizer: ClipTokenizer, maxLength?: number): TokenizedText {
    const rows: number[] = [];
    for (const part of this.splitIdentifiers(text)) {
      if (part.identifierRow !== undefined) rows.push(part.identifierRow);
      else for (const id of tokenizer.encode(part.text)) rows.push(this.rowOf(id));
    }
    return frameTokens(rows, START_ROW, END_ROW, { maxLength, padId: END_ROW });
  }

  private splitIdentifiers(text: string): { text: string; identifierRow?: number }[] {
    if (this.identifiers.length === 0) return [{ text }];
    const pattern = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${literalAlternatives(this.identifiers)})(?![\\p{L}\\p{N}_])`, 'giu');
    const parts: { text: string; identifierRow?: number }[] = [];
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      parts.push({ text: text.slice(last, match.index) });
      parts.push({ text: match[0], identifierRow: this.identifierRow(match[0]) });
      last = match.index + match[0].length;
    }
    parts.push({ text: text.slice(last) });
    return parts;
  }
}
