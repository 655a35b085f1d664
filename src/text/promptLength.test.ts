import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from './clipTokenizer';
import { measurePrompt } from './promptLength';

const clip = ClipTokenizer.shared();

describe('measurePrompt', () => {
  it('counts the tokens a short prompt takes, with nothing cut', () => {
    expect(measurePrompt(clip, 'a photo of a cat')).toEqual({ tokens: 5, limit: 75, cut: '' });
    expect(measurePrompt(clip, '')).toEqual({ tokens: 0, limit: 75, cut: '' });
  });

  it('names the words past the 75 tokens CLIP reads (77 with start and end)', () => {
    // 75 one-token words, then five more that do not fit.
    const words = [...Array.from({ length: 75 }, () => 'cat'), 'on', 'the', 'red', 'beach', 'today'];
    const result = measurePrompt(clip, words.join(' '));
    expect(result.limit).toBe(75);
    expect(result.tokens).toBe(80);
    // Exactly the tokens after the first 75, decoded back to text.
    expect(result.cut).toBe(clip.decode(clip.encode(words.join(' ')).slice(75)));
    expect(result.cut).toBe('on the red beach today');
  });

  it('follows a smaller context length', () => {
    expect(measurePrompt(clip, 'a photo of a cat', 5)).toEqual({ tokens: 5, limit: 3, cut: 'a cat' });
  });
});
