/**
 * Browser harness for the generation pipeline (e2e/generation-engine.spec.ts, bench/sample.ts): runs
 * requests on a chosen backend in the page and returns what the tests compare.
 */
import { measureSampling, type SampleBenchOptions, type SampleBenchResult } from '../../bench/sampleMeasure';
import { builtinModelSource, loadGenerationModel } from '../../src/generation/generationModel';
import { GenerationPipeline } from '../../src/generation/generationPipeline';
import { checkGenerateRequest, resolveGenerateRequest } from '../../src/generation/generateRequest';
import type { OpenBackendOptions } from '../../src/generation/inferenceBackend';
import type { GenerateRequest, GenerateResult } from '../../src/generation/jobTypes';
import { countGpuBuffers, liveGpuBuffers } from './gpuBufferCount';

countGpuBuffers();

export interface GenerationRun {
  /** Absent when the request failed (see `error`). */
  result?: Omit<GenerateResult, 'images'>;
  /** Each image's PNG bytes (plain arrays: they cross page.evaluate as JSON). */
  pngs: number[][];
  /** Denoising progress events (step numbers) seen. */
  stepsSeen: number[];
  /** WebGPU buffers alive in the page after the request (see gpuBufferCount.ts). */
  gpuBuffers: number;
  error?: { name: string; code?: string; message: string };
}

/** Runs `requests` in order on one pipeline; `cancel` cancels request `cancel.request` when it reports step `cancel.atStep`. */
async function generate(backend: OpenBackendOptions, requests: GenerateRequest[], cancel?: { request: number; atStep: number }): Promise<GenerationRun[]> {
  const model = await loadGenerationModel(builtinModelSource());
  const pipeline = await GenerationPipeline.create(model, backend);
  const runs: GenerationRun[] = [];
  try {
    for (const [index, request] of requests.entries()) {
      const controller = new AbortController();
      const stepsSeen: number[] = [];
      try {
        const result = await pipeline.generate(resolveGenerateRequest(checkGenerateRequest(request), model), {
          signal: controller.signal,
          onProgress: (p) => {
            if (p.stage !== 'denoising' || p.step === 0) return;
            stepsSeen.push(p.step);
            if (index === cancel?.request && p.step === cancel.atStep) controller.abort();
          },
        });
        const { images, ...rest } = result;
        runs.push({ result: rest, pngs: images.map((i) => Array.from(new Uint8Array(i.png))), stepsSeen, gpuBuffers: liveGpuBuffers() });
      } catch (e) {
        const error = { name: (e as Error).name, code: (e as { code?: string }).code, message: (e as Error).message };
        runs.push({ pngs: [], stepsSeen, gpuBuffers: liveGpuBuffers(), error });
      }
    }
  } finally {
    await pipeline.dispose();
  }
  return runs;
}

const harness = {
  generate,
  measure: (o: SampleBenchOptions): Promise<SampleBenchResult> => measureSampling(o),
  adapter: async () => (await navigator.gpu?.requestAdapter())?.info.architecture ?? null,
  crossOriginIsolated: () => self.crossOriginIsolated,
};
export type GenerationHarness = typeof harness;
declare global {
  interface Window {
    generationHarness: GenerationHarness;
  }
}
window.generationHarness = harness;
document.body.dataset.ready = 'true';
