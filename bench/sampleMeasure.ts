/**
 * Sampling measurements shared by `npm run bench:sample` (wasm in Node), the browser harness
 * (e2e/harness/generation.ts, WebGPU in Chromium) and bench/sample-gpu.mjs (WebGPU through Dawn in Node).
 */
import type { SamplerName } from '../src/diffusion/schedulerConfig';
import { builtinModelSource, loadGenerationModel } from '../src/generation/generationModel';
import { GenerationPipeline } from '../src/generation/generationPipeline';
import { checkGenerateRequest, resolveGenerateRequest } from '../src/generation/generateRequest';
import type { OpenBackendOptions } from '../src/generation/inferenceBackend';
import type { GenerationBackend } from '../src/generation/jobTypes';

export interface SampleBenchOptions {
  backend: OpenBackendOptions;
  samplers: SamplerName[];
  /** Steps per image (25 is the goal's setting; software WebGPU uses fewer). */
  steps: number;
  /** Timed runs per setting after a warm-up run; the median is reported. */
  repeats: number;
  guidanceScale?: number;
  /** Image size; default the model's own (64×64 for the built-in model). */
  size?: number;
}

export interface SamplerTiming {
  sampler: SamplerName;
  steps: number;
  size: number;
  /** One whole guided image at `steps` steps, warm (sessions compiled, prompt embeddings cached): text, denoise, decode, PNG. */
  msPerImage: number;
  /** (msPerImage − the same at 1 step) / (steps − 1): one denoise step = one UNet evaluation at batch 2 + guidance + update. */
  msPerStep: number;
  allMsPerImage: number[];
}

export interface SampleBenchResult {
  backend: GenerationBackend;
  /** Compiling the three sessions (text encoder, batch-1 guided denoise step, decoder). */
  compileMs: number;
  /** First image including compilation, as a person would wait for it. */
  firstImageMs: number;
  samplers: SamplerTiming[];
  untrained: boolean;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 10) / 10;

export async function measureSampling(o: SampleBenchOptions): Promise<SampleBenchResult> {
  const model = await loadGenerationModel(builtinModelSource());
  const pipeline = await GenerationPipeline.create(model, o.backend);
  try {
    const request = (sampler: SamplerName, steps: number) =>
      resolveGenerateRequest(
        checkGenerateRequest({
          prompt: 'a photo of a dog on the beach',
          sampler,
          steps,
          guidanceScale: o.guidanceScale ?? 7.5,
          seed: 1,
          numImages: 1,
          previewEvery: 0,
          ...(o.size ? { width: o.size, height: o.size } : {}),
        }),
        model,
      );
    const t0 = performance.now();
    const first = await pipeline.generate(request(o.samplers[0]!, o.steps));
    const firstImageMs = performance.now() - t0;
    const samplers: SamplerTiming[] = [];
    for (const sampler of o.samplers) {
      const time = async (steps: number) => {
        const all: number[] = [];
        for (let i = 0; i < o.repeats; i++) all.push((await pipeline.generate(request(sampler, steps))).timings.totalMs);
        return all;
      };
      const full = await time(o.steps);
      const one = await time(1);
      const msPerImage = median(full);
      samplers.push({
        sampler,
        steps: o.steps,
        size: o.size ?? model.width,
        msPerImage: round(msPerImage),
        msPerStep: round((msPerImage - median(one)) / Math.max(1, o.steps - 1)),
        allMsPerImage: full.map(round),
      });
    }
    return {
      backend: pipeline.backend.report,
      compileMs: round(first.timings.compileMs),
      firstImageMs: round(firstImageMs),
      samplers,
      untrained: model.folder.untrained,
    };
  } finally {
    await pipeline.dispose();
  }
}
