import { MAX_SEED } from '../diffusion/random';

/**
 * Allowed ranges of the generation settings: the one source for the worker's `generate` check, batch files and
 * the Generate form, so a setting valid in one is valid in all. Imports no model code (the page uses it).
 * Width and height have no fixed multiple here: each model has its own (`sizeMultiple`, 16 for the built-in
 * model), checked once the model that runs the request is known.
 */
export const GENERATE_LIMITS = {
  textLength: 10_000,
  steps: { min: 1, max: 1000 },
  guidanceScale: { min: 0, max: 100 },
  seed: { min: 0, max: MAX_SEED },
  numImages: { min: 1, max: 16 },
  imageSide: { min: 8, max: 2048 },
} as const;

/** JSON-schema properties for the limits, with the field names the worker request uses. */
export const GENERATE_LIMIT_SCHEMAS = {
  prompt: { type: 'string', maxLength: GENERATE_LIMITS.textLength },
  negativePrompt: { type: 'string', maxLength: GENERATE_LIMITS.textLength },
  steps: integerIn(GENERATE_LIMITS.steps),
  guidanceScale: { type: 'number', minimum: GENERATE_LIMITS.guidanceScale.min, maximum: GENERATE_LIMITS.guidanceScale.max },
  seed: integerIn(GENERATE_LIMITS.seed),
  numImages: integerIn(GENERATE_LIMITS.numImages),
  width: integerIn(GENERATE_LIMITS.imageSide),
  height: integerIn(GENERATE_LIMITS.imageSide),
} as const;

function integerIn<Min extends number, Max extends number>(range: { min: Min; max: Max }) {
  return { type: 'integer', minimum: range.min, maximum: range.max } as const;
}
