import { describe, expect, it } from 'vitest';
import { A1111_SAMPLER_NAMES, formatInfotext, parseInfotext, samplerFromA1111Name, type Infotext } from './infotext';

const base: Infotext = {
  prompt: 'a photo of sks dog on the beach',
  negativePrompt: 'blurry, low quality',
  steps: 25,
  sampler: 'DPM++ 2M',
  cfgScale: 7,
  seed: 123,
  width: 64,
  height: 64,
  model: 'dreambooth-sks',
  extra: {},
};

describe('formatInfotext', () => {
  it('writes prompt, negative prompt and the parameter line as A1111 does', () => {
    expect(formatInfotext(base)).toBe(
      'a photo of sks dog on the beach\n' +
        'Negative prompt: blurry, low quality\n' +
        'Steps: 25, Sampler: DPM++ 2M, CFG scale: 7, Seed: 123, Size: 64x64, Model: dreambooth-sks',
    );
  });

  it('leaves out an empty negative prompt and JSON-quotes values with ",", ":" or newlines', () => {
    const text = formatInfotext({ ...base, negativePrompt: '', model: undefined, extra: { 'Lora hashes': 'sks: 1a2b, dog: 3c4d', Version: 'v1' } });
    expect(text).toBe(
      'a photo of sks dog on the beach\n' +
        'Steps: 25, Sampler: DPM++ 2M, CFG scale: 7, Seed: 123, Size: 64x64, Lora hashes: "sks: 1a2b, dog: 3c4d", Version: v1',
    );
  });

  it('refuses keys A1111 could not read back', () => {
    expect(() => formatInfotext({ ...base, extra: { 'bad:key': 'x' } })).toThrow(/bad:key/);
  });
});

describe('parseInfotext', () => {
  it("reads the example from A1111's parse_generation_parameters docstring", () => {
    const text = `girl with an artist's beret, determined, blue eyes, desert scene, computer monitors, heavy makeup, by Alphonse Mucha and Charlie Bowater, ((eyeshadow)), (coquettish), detailed, intricate
Negative prompt: ugly, fat, obese, chubby, (((deformed))), [blurry], bad anatomy, disfigured, poorly drawn face, mutation, mutated, (extra_limb), (ugly), (poorly drawn hands), messy drawing
Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b`;
    expect(parseInfotext(text)).toEqual({
      prompt:
        "girl with an artist's beret, determined, blue eyes, desert scene, computer monitors, heavy makeup, by Alphonse Mucha and Charlie Bowater, ((eyeshadow)), (coquettish), detailed, intricate",
      negativePrompt:
        'ugly, fat, obese, chubby, (((deformed))), [blurry], bad anatomy, disfigured, poorly drawn face, mutation, mutated, (extra_limb), (ugly), (poorly drawn hands), messy drawing',
      steps: 20,
      sampler: 'Euler a',
      cfgScale: 7,
      seed: 965400086,
      width: 512,
      height: 512,
      modelHash: '45dee52b',
      extra: {},
    });
  });

  it('reads a newer A1111 line with quoted values, schedule type and multi-line prompts', () => {
    const text = `masterpiece,
a dog
Negative prompt: text,
watermark
Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5.5, Seed: 1960802277, Size: 768x512, Model hash: e6e99610c4, Model: v1-5, Lora hashes: "a: 1, b: 2", Version: v1.10.1`;
    const parsed = parseInfotext(text);
    expect(parsed.prompt).toBe('masterpiece,\na dog');
    expect(parsed.negativePrompt).toBe('text,\nwatermark');
    expect(parsed.cfgScale).toBe(5.5);
    expect([parsed.width, parsed.height]).toEqual([768, 512]);
    expect(parsed.extra).toEqual({ 'Schedule type': 'Karras', 'Lora hashes': 'a: 1, b: 2', Version: 'v1.10.1' });
  });

  it('treats text without a parameter line (fewer than 3 pairs) as all prompt', () => {
    expect(parseInfotext('just a prompt\nSteps: 20')).toEqual({ prompt: 'just a prompt\nSteps: 20', negativePrompt: '', extra: {} });
  });

  it('keeps known keys with unreadable values in extra', () => {
    const parsed = parseInfotext('p\nSteps: many, Seed: 1, Size: big, Sampler: DDIM');
    expect(parsed.steps).toBeUndefined();
    expect(parsed.extra).toEqual({ Steps: 'many', Size: 'big' });
  });
});

describe('round trip', () => {
  const cases: Infotext[] = [
    base,
    { ...base, negativePrompt: '', model: undefined },
    { ...base, prompt: 'line one\nline two, with: colon', negativePrompt: 'neg\nmore', cfgScale: 7.5, modelHash: 'abc123' },
    { ...base, prompt: 'café 🐶 über', model: 'my "quoted" model, v2', extra: { 'Clip skip': '2', Note: '"starts with a quote' } },
    { ...base, prompt: '', negativePrompt: 'only negative', seed: 4294967295 },
  ];
  it.each(cases.map((c, i) => [i, c] as const))('parse(format(x)) == x, case %i', (_, info) => {
    const parsed = parseInfotext(formatInfotext(info));
    const expected: Partial<Infotext> = { ...info };
    for (const key of Object.keys(expected) as (keyof Infotext)[]) if (expected[key] === undefined) delete expected[key];
    expect(parsed).toEqual(expected);
  });
});

describe('sampler names', () => {
  it("maps between our sampler ids and A1111's names", () => {
    expect(A1111_SAMPLER_NAMES.euler_a).toBe('Euler a');
    expect(samplerFromA1111Name('DPM++ 2M')).toBe('dpmpp_2m');
    expect(samplerFromA1111Name('DPM++ 2M Karras')).toBeUndefined();
  });
});
