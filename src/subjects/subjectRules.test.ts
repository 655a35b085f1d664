import { describe, expect, it } from 'vitest';
import { suggestIdentifier } from './identifier';
import { checkClassNoun, checkIdentifier, checkName, checkReadyToProceed, checkSubjectFields, photosThatFit } from './subjectRules';

describe('subject fields', () => {
  it('accepts ordinary class nouns and refuses empty, symbolic or long ones', () => {
    for (const ok of ['dog', 'Plush toy', 'teddy-bear', ' mug ']) expect(checkClassNoun(ok)).toBeNull();
    expect(checkClassNoun('  ')).toMatch(/^Class noun is empty/);
    expect(checkClassNoun('dog2')).toMatch(/plain words of letters/);
    expect(checkClassNoun('a very big red dog')).toMatch(/plain words of letters/);
    expect(checkClassNoun('x'.repeat(33))).toMatch(/keep it to 32/);
  });

  it('refuses identifiers that would clash with the prompt or another subject', () => {
    expect(checkIdentifier('zoqu', 'dog', [])).toBeNull();
    expect(checkIdentifier('', 'dog', [])).toMatch(/^Identifier is empty/);
    expect(checkIdentifier('zo', 'dog', [])).toMatch(/3 to 12 lowercase letters/);
    expect(checkIdentifier('zo qu', 'dog', [])).toMatch(/3 to 12 lowercase letters/);
    expect(checkIdentifier('toy', 'plush toy', [])).toMatch(/differ from the class noun/);
    expect(checkIdentifier('photo', 'dog', [])).toMatch(/common word/);
    expect(checkIdentifier('ZoQu', 'dog', ['zoqu'])).toMatch(/already belongs to another subject/);
  });

  it('collects problems per field', () => {
    expect(checkSubjectFields({ name: '', classNoun: 'dog', identifier: 'the' }, [])).toEqual({
      name: expect.stringMatching(/^Name is empty/),
      identifier: expect.stringMatching(/common word/),
    });
    expect(checkName('Rex')).toBeNull();
  });
});

describe('photo count', () => {
  it('needs three photos to proceed and says how many are missing', () => {
    expect(checkReadyToProceed(0)).toBe('Add 3 more photos: training needs at least 3 (this subject has 0).');
    expect(checkReadyToProceed(2)).toBe('Add 1 more photo: training needs at least 3 (this subject has 2).');
    expect(checkReadyToProceed(3)).toBeNull();
  });

  it('fits at most five photos', () => {
    expect(photosThatFit(0, 7)).toBe(5);
    expect(photosThatFit(4, 3)).toBe(1);
    expect(photosThatFit(5, 1)).toBe(0);
  });
});

describe('suggestIdentifier', () => {
  it('suggests valid identifiers that no other subject has, even when most are taken', () => {
    const taken: string[] = [];
    for (let i = 0; i < 200; i++) {
      const id = suggestIdentifier(taken);
      expect(checkIdentifier(id, 'dog', taken)).toBeNull();
      taken.push(id);
    }
    expect(new Set(taken).size).toBe(200);
  });

  it('falls back to an ordered walk when random draws keep colliding', () => {
    const alwaysFirst = () => 0;
    const first = suggestIdentifier([], () => 0.99);
    expect(suggestIdentifier([first], alwaysFirst)).not.toBe(first);
  });
});
