import { MAX_SEED } from '../diffusion/random';
import { describeSchemaErrors } from '../validation/schemaMessages';
import { JobError } from '../protocol/jobs';
import { validateGenerateRequest } from '../validation/validators.generated.js';
import type { BackendPreference, GenerateRequest } from './jobTypes';

/** A checked request with every default filled in. */
export type ResolvedGenerateRequest = Required<Omit<GenerateRequest, 'eta'>> & { eta: number };

/** What the loaded model decides about sizes. */
export interface ModelGeometry {
  width: number;
  height: number;
  sizeMultiple: number;
}

/** The id of the model a request names (before the model is loaded). */
export function requestedModelId(request: { modelId?: string }): string {
  return request.modelId ?? 'builtin';
}

/** The backend a request asks for. */
export function requestedBackend(request: { backend?: BackendPreference }): BackendPreference {
  return request.backend ?? 'auto';
}

/**
 * Checks a `generate` payload (structured-cloned from the page, so anything may arrive).
 * @throws JobError 'bad-input' naming the first bad field, e.g. `steps must be ≥ 1`.
 */
export function checkGenerateRequest(payload: unknown): GenerateRequest {
  if (!validateGenerateRequest(payload)) {
    const [issue] = describeSchemaErrors(validateGenerateRequest.errors);
    const field = issue?.field.replace(/^\//, '') || undefined;
    throw new JobError('bad-input', issue ? issue.message.replace(/^\//, '') : 'the request is invalid', field);
  }
  const r = payload as GenerateRequest;
  if ((r.eta ?? 0) !== 0 && r.sampler !== 'ddim') throw new JobError('bad-input', `eta is a DDIM setting; sampler "${r.sampler}" does not take it`, 'eta');
  return r;
}

/**
 * Fills a checked request's defaults for the model that will run it.
 * @throws JobError 'bad-input' when the image size does not suit the model.
 */
export function resolveGenerateRequest(r: GenerateRequest, model: ModelGeometry): ResolvedGenerateRequest {
  const width = r.width ?? model.width;
  const height = r.height ?? model.height;
  for (const [field, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (value % model.sizeMultiple !== 0) {
      throw new JobError('bad-input', `${field} ${value} must be a multiple of ${model.sizeMultiple} for this model`, field);
    }
  }
  return {
    modelId: requestedModelId(r),
    prompt: r.prompt,
    negativePrompt: r.negativePrompt ?? '',
    sampler: r.sampler,
    steps: r.steps,
    guidanceScale: r.guidanceScale,
    seed: r.seed,
    numImages: r.numImages,
    eta: r.eta ?? 0,
    width,
    height,
    previewEvery: r.previewEvery ?? 5,
    maxBatch: r.maxBatch ?? 4,
    backend: requestedBackend(r),
  };
}

/** Seed of image `index`: seed + index, wrapping at 2³² (AUTOMATIC1111 adds the index too). */
export function imageSeed(seed: number, index: number): number {
  return (seed + index) % (MAX_SEED + 1);
}
