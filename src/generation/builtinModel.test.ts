/** The shipped built-in model (models/builtin, written by `npm run pretrain -- --export`): it loads and draws. */
import { decode as decodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { UNK_ROW } from '../text/compactVocabulary';
import { builtinModelSource, loadGenerationModel } from './generationModel';
import { GenerationPipeline } from './generationPipeline';
import { resolveGenerateRequest } from './generateRequest';

describe('the shipped built-in model', () => {
  it('has trained weights for every component and knows the words of DreamBooth prompts', async () => {
    const model = await loadGenerationModel(builtinModelSource());
    expect(model.folder.untrained).toBe(false);
    expect([model.folder.unet, model.folder.vae, model.folder.textEncoder].map((c) => c.weights.kind)).toEqual(['weights', 'weights', 'weights']);
    expect(model.tokenizer.kind).toBe('compact');
    const rows = [...model.tokenizer.tokenize('a photo of a dog on the beach')].slice(1, 9);
    expect(rows).not.toContain(UNK_ROW);
  });

  // Prompt adherence is measured by `npm run eval:base` (models/builtin/README.md), not asserted here.
  it('draws finite, structured pictures that change with the seed', async () => {
    const model = await loadGenerationModel(builtinModelSource());
    const pipeline = await GenerationPipeline.create(model, { preference: 'wasm', threads: 2 });
    try {
      const draw = async (seed: number) => {
        const r = resolveGenerateRequest(
          { prompt: 'a photo of a red apple', sampler: 'dpmpp_2m', steps: 6, guidanceScale: 4, seed, numImages: 1, previewEvery: 0 },
          model,
        );
        return decodePng(new Uint8Array((await pipeline.generate(r)).images[0]!.png)).data as Uint8Array;
      };
      const [a, b] = [await draw(11), await draw(12)];
      const std = (p: Uint8Array) => {
        const m = p.reduce((a, v) => a + v, 0) / p.length;
        return Math.sqrt(p.reduce((a, v) => a + (v - m) ** 2, 0) / p.length);
      };
      expect(std(a)).toBeGreaterThan(10);
      expect(a.some((v, i) => Math.abs(v - b[i]!) > 40)).toBe(true);
    } finally {
      await pipeline.dispose();
    }
  }, 120_000);
});
