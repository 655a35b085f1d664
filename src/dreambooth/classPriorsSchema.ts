import { SAMPLER_NAMES } from '../diffusion/schedulerConfigSchema';
import { GENERATE_LIMIT_SCHEMAS } from '../generation/generateLimits';

/** Most class images one request may ask for (the training settings' `classImages` limit). */
export const MAX_CLASS_IMAGES = 1000;

/** The JSON Schema of a `generatePriors` payload (classPriors.ts checks it; compiled at build time, see scripts/schemaRegistry.ts). */
export const PRIORS_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['classNoun', 'count', 'seed', 'sampler', 'steps', 'guidanceScale'],
  properties: {
    classNoun: { type: 'string', maxLength: 100 },
    count: { type: 'integer', minimum: 1, maximum: MAX_CLASS_IMAGES },
    seed: GENERATE_LIMIT_SCHEMAS.seed,
    sampler: { enum: [...SAMPLER_NAMES] },
    steps: GENERATE_LIMIT_SCHEMAS.steps,
    guidanceScale: GENERATE_LIMIT_SCHEMAS.guidanceScale,
    modelId: { type: 'string', minLength: 1 },
    backend: { enum: ['auto', 'webgpu', 'wasm'] },
  },
} as const;
