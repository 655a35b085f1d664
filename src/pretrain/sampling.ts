/**
 * Text → image with the studio's own generation pipeline (wasm EP in Node) for pretraining previews and the
 * base-model evaluation: the same graphs, sampler and guidance a person gets in the Generate step.
 */
import { pngToRgb } from '../export/imageGrid';
import { loadGenerationModel, type ModelSource } from '../generation/generationModel';
import { GenerationPipeline } from '../generation/generationPipeline';
import { resolveGenerateRequest } from '../generation/generateRequest';
import type { SamplerName } from '../diffusion/schedulerConfig';

export interface SampleSettings {
  sampler: SamplerName;
  steps: number;
  guidanceScale: number;
  threads: number;
}

export const PREVIEW_SETTINGS: Omit<SampleSettings, 'threads'> = { sampler: 'dpmpp_2m', steps: 20, guidanceScale: 4 };

/** `n` images per prompt (seeds seed … seed+n−1), in prompt order, as RGB tiles. */
export async function samplePrompts(source: ModelSource, prompts: readonly string[], n: number, seed: number, s: SampleSettings): Promise<Uint8Array[][]> {
  const model = await loadGenerationModel(source);
  const pipeline = await GenerationPipeline.create(model, { preference: 'wasm', threads: s.threads });
  try {
    const out: Uint8Array[][] = [];
    for (const prompt of prompts) {
      const r = resolveGenerateRequest(
        {
          prompt,
          sampler: s.sampler,
          steps: s.steps,
          guidanceScale: s.guidanceScale,
          seed,
          numImages: n,
          previewEvery: 0,
          maxBatch: Math.min(n, 8),
          backend: 'wasm',
        },
        model,
      );
      const result = await pipeline.generate(r);
      out.push(result.images.map((im) => pngToRgb(im.png)));
    }
    return out;
  } finally {
    await pipeline.dispose();
  }
}
