import { describe, expect, it } from 'vitest';
import { ClipTokenizer, END_OF_TEXT_ID, START_OF_TEXT_ID } from './clipTokenizer';
import builtinTextEncoder from '../../models/builtin/text_encoder/config.json';
import { CompactVocabulary, CompactVocabularyError, UNK_ROW } from './compactVocabulary';

const tokenizer = ClipTokenizer.shared();
const captions = ['a photo of a dog', 'a photo of a cat', 'a red apple', 'a dog on the beach'];
const base = CompactVocabulary.fromTexts(captions, tokenizer, 4);

function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof CompactVocabularyError) return e.issues.map((i) => i.field);
    throw e;
  }
  throw new Error('expected a CompactVocabularyError');
}

describe('CompactVocabulary', () => {
  it('has a row for start/end, <unk>, each caption token, and the reserved rows', () => {
    const distinct = new Set(captions.flatMap((c) => tokenizer.encode(c)));
    expect(distinct.has(START_OF_TEXT_ID) || distinct.has(END_OF_TEXT_ID)).toBe(false);
    expect(base.rowCount).toBe(2 + 1 + distinct.size + 4);
    expect(base.rowOf(tokenizer.lookup('dog</w>')!)).toBeGreaterThan(UNK_ROW);
    expect(base.rowOf(tokenizer.lookup('zebra</w>')!)).toBe(UNK_ROW);
  });

  it("puts start and end on the rows the built-in text encoder's config names, in any vocabulary", () => {
    for (const vocab of [base, CompactVocabulary.fromTexts([], tokenizer, 0)]) {
      expect(vocab.rowOf(START_OF_TEXT_ID)).toBe(builtinTextEncoder.bos_token_id);
      expect(vocab.rowOf(END_OF_TEXT_ID)).toBe(builtinTextEncoder.eos_token_id);
      expect(vocab.tokenize('a dog', tokenizer).ids.at(-1)).toBe(builtinTextEncoder.pad_token_id);
    }
  });

  it('maps a prompt to rows that name the same words, framed and padded with the end row', () => {
    const { ids, length } = base.tokenize('a photo of a zebra', tokenizer);
    const expectedWords = tokenizer.encode('a photo of a zebra').map((id) => base.rowOf(id));
    expect(Array.from(ids.subarray(0, length))).toEqual([base.rowOf(START_OF_TEXT_ID), ...expectedWords, base.rowOf(END_OF_TEXT_ID)]);
    expect(expectedWords[4]).toBe(UNK_ROW);
    expect(ids.subarray(length).every((row) => row === base.rowOf(END_OF_TEXT_ID))).toBe(true);
    expect(ids).toHaveLength(77);
  });

  it("binds an identifier to a fresh reserved row instead of a word's row", () => {
    const vocab = base.withIdentifier('sks', tokenizer);
    const row = vocab.identifierRow('sks')!;
    expect(row).toBe(base.rowCount - 4); // the first reserved row
    const { ids, length } = vocab.tokenize('a photo of SKS dog', tokenizer);
    const words = Array.from(ids.subarray(1, length - 1));
    expect(words).toEqual([
      vocab.rowOf(tokenizer.lookup('a</w>')!),
      vocab.rowOf(tokenizer.lookup('photo</w>')!),
      vocab.rowOf(tokenizer.lookup('of</w>')!),
      row,
      vocab.rowOf(tokenizer.lookup('dog</w>')!),
    ]);
    // Whole words only: "sksdog" and "tasks" are not the identifier.
    expect(Array.from(vocab.tokenize('sksdog tasks', tokenizer).ids)).not.toContain(row);
    // A second identifier takes the next row.
    expect(vocab.withIdentifier('<qzx>', tokenizer).identifierRow('<qzx>')).toBe(row + 1);
  });

  it('refuses identifiers that would hijack known words, repeats, bad names, and overflow', () => {
    expect(fieldsOf(() => base.withIdentifier('dog', tokenizer))).toEqual(['identifier']);
    expect(() => base.withIdentifier('dog', tokenizer)).toThrow(/already knows/);
    const once = base.withIdentifier('sks', tokenizer);
    expect(() => once.withIdentifier('SKS', tokenizer)).toThrow(/already bound/);
    expect(() => base.withIdentifier('two words', tokenizer)).toThrow(/no spaces/);
    const full = CompactVocabulary.fromTexts(captions, tokenizer, 1).withIdentifier('sks', tokenizer);
    expect(() => full.withIdentifier('qzx', tokenizer)).toThrow(/reserved identifier rows/);
  });

  it('round-trips through JSON', () => {
    const vocab = base.withIdentifier('sks', tokenizer);
    const copy = CompactVocabulary.fromJSON(JSON.parse(JSON.stringify(vocab)));
    expect(copy.toJSON()).toEqual(vocab.toJSON());
    expect(Array.from(copy.tokenize('a photo of sks dog', tokenizer).ids)).toEqual(Array.from(vocab.tokenize('a photo of sks dog', tokenizer).ids));
  });

  it('reports bad JSON by field', () => {
    const good = base.toJSON();
    expect(fieldsOf(() => CompactVocabulary.fromJSON({ ...good, clipIds: [...good.clipIds, good.clipIds[1]] }))).toEqual([`/clipIds/${good.clipIds.length}`]);
    expect(fieldsOf(() => CompactVocabulary.fromJSON({ ...good, clipIds: [1, 2, START_OF_TEXT_ID] }))).toEqual(['/clipIds/2']);
    expect(fieldsOf(() => CompactVocabulary.fromJSON({ ...good, reservedRows: -1, extra: true })).sort()).toEqual(['/extra', '/reservedRows']);
    expect(fieldsOf(() => CompactVocabulary.fromJSON({ ...good, identifiers: ['a', 'b', 'c', 'd', 'e'] }))).toEqual(['/identifiers']);
    expect(fieldsOf(() => CompactVocabulary.fromJSON({ ...good, identifiers: ['has space'] }))).toEqual(['/identifiers/0']);
  });
});
