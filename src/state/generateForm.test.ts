import { describe, expect, it } from 'vitest';
import type { GalleryParams } from '../storage/galleryRecords';
import { checkGenerateForm, DEFAULT_FORM, formFromParams, randomSeed, type GenerateFormValues } from './generateForm';

const check = (changes: Partial<GenerateFormValues>) => checkGenerateForm({ ...DEFAULT_FORM, ...changes });
const problems = (changes: Partial<GenerateFormValues>) => {
  const result = check(changes);
  return 'problems' in result ? result.problems : {};
};

describe('checkGenerateForm', () => {
  it('turns a valid form into numbers, trimming the prompts', () => {
    expect(check({ prompt: '  a dog ', steps: '4', guidanceScale: '2.5', seedMode: 'fixed', seed: '4294967295', numImages: '16' })).toEqual({
      settings: { prompt: 'a dog', negativePrompt: '', sampler: 'dpmpp_2m', steps: 4, guidanceScale: 2.5, seed: 4294967295, numImages: 16 },
    });
  });

  it('ignores the seed box while the seed is random', () => {
    expect(check({ seedMode: 'random', seed: 'junk' })).toMatchObject({ settings: { seed: null } });
  });

  it.each([
    [{ steps: '0' }, 'steps', 'Steps must be from 1 to 1000; 0 is too small.'],
    [{ steps: '1001' }, 'steps', 'Steps must be from 1 to 1000; 1001 is too large.'],
    [{ steps: '2.5' }, 'steps', 'Steps must be a whole number from 1 to 1000, not 2.5.'],
    [{ steps: '' }, 'steps', 'Steps must be a whole number from 1 to 1000; it is empty.'],
    [{ guidanceScale: 'abc' }, 'guidanceScale', 'Guidance scale must be a number from 0 to 100, not “abc”.'],
    [{ guidanceScale: '-1' }, 'guidanceScale', 'Guidance scale must be from 0 to 100; -1 is too small.'],
    [{ seedMode: 'fixed', seed: '4294967296' }, 'seed', 'Seed must be from 0 to 4294967295; 4294967296 is too large.'],
    [{ seedMode: 'fixed', seed: '-3' }, 'seed', 'Seed must be from 0 to 4294967295; -3 is too small.'],
    [{ numImages: '17' }, 'numImages', 'Number of images must be from 1 to 16; 17 is too large.'],
    [{ prompt: 'x'.repeat(10_001) }, 'prompt', 'The prompt is 10001 characters long; at most 10000 are allowed.'],
  ] as const)('names the field and the allowed range: %o', (changes, field, message) => {
    expect(problems(changes)).toEqual({ [field]: message });
  });

  it('reports every bad field at once', () => {
    expect(Object.keys(problems({ steps: '0', numImages: '0', guidanceScale: '' })).sort()).toEqual(['guidanceScale', 'numImages', 'steps']);
  });

  it('accepts an empty prompt (unconditional image), as other tools do', () => {
    expect(check({ prompt: '' })).toMatchObject({ settings: { prompt: '' } });
  });
});

describe('formFromParams', () => {
  it('fills the form so that checking it gives the stored settings back, seed fixed', () => {
    const params: GalleryParams = {
      prompt: 'a photo of zoqu cat, on the beach',
      negativePrompt: 'blurry',
      sampler: 'euler_a',
      steps: 3,
      guidanceScale: 6.5,
      seed: 123456,
      width: 64,
      height: 64,
    };
    expect(checkGenerateForm(formFromParams(params))).toEqual({
      settings: { prompt: params.prompt, negativePrompt: 'blurry', sampler: 'euler_a', steps: 3, guidanceScale: 6.5, seed: 123456, numImages: 1 },
    });
  });
});

describe('randomSeed', () => {
  it('draws whole numbers in the seed range that differ between calls', () => {
    const seeds = Array.from({ length: 20 }, randomSeed);
    for (const seed of seeds) expect(Number.isInteger(seed) && seed >= 0 && seed <= 0xffff_ffff).toBe(true);
    expect(new Set(seeds).size).toBeGreaterThan(15);
  });
});
