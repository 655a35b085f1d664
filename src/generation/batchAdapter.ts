/**
 * Batch files (src/batch) run through the `generate` job one line at a time: the page parses the JSONL with
 * `parseBatchJsonl`, turns each entry into a `GenerateRequest` here (fields the line leaves out come from the
 * app's current settings), sends it, and turns each answer into a `BatchOutcome` for `zipBatchResults`
 * (failed lines get theirs from the batch queue). No model code is imported, so the page can use this without
 * loading the engine.
 */
import type { BatchRequest } from '../batch/batchRequests';
import type { BatchOutcome } from '../batch/batchResults';
import type { GenerateRequest, GenerateResult } from './jobTypes';

/** Settings a batch line may leave out. */
export type GenerateDefaults = Omit<GenerateRequest, 'prompt' | 'negativePrompt'> & { negativePrompt?: string };

/** The `generate` payload for one batch line. */
export function generateRequestFromBatch(request: BatchRequest, defaults: GenerateDefaults): GenerateRequest {
  return {
    ...defaults,
    prompt: request.prompt,
    negativePrompt: request.negative_prompt ?? defaults.negativePrompt ?? '',
    sampler: request.sampler ?? defaults.sampler,
    steps: request.steps ?? defaults.steps,
    guidanceScale: request.guidance_scale ?? defaults.guidanceScale,
    seed: request.seed ?? defaults.seed,
    numImages: request.num_images ?? defaults.numImages,
    ...(request.width !== undefined ? { width: request.width } : {}),
    ...(request.height !== undefined ? { height: request.height } : {}),
  };
}

/** A completed batch line from a `generate` result. */
export function batchOutcomeFromResult(customId: string, result: GenerateResult): BatchOutcome {
  return {
    customId,
    images: result.images.map((image) => ({ png: new Uint8Array(image.png), seed: image.seed })),
    usage: { unetEvaluations: result.usage.unetEvaluations, modelMs: result.usage.modelMs },
    backend: { ep: result.backend.ep, kind: result.backend.kind },
  };
}
