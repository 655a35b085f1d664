import { SAMPLER_NAMES } from '../diffusion/schedulerConfigSchema';
import { GENERATE_LIMITS, GENERATE_LIMIT_SCHEMAS } from './generateLimits';

/** The JSON Schema of a `generate` payload (generateRequest.ts checks it; compiled at build time, see scripts/schemaRegistry.ts). */
export const GENERATE_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['prompt', 'sampler', 'steps', 'guidanceScale', 'seed', 'numImages'],
  properties: {
    modelId: { type: 'string', minLength: 1 },
    ...GENERATE_LIMIT_SCHEMAS,
    sampler: { enum: [...SAMPLER_NAMES] },
    eta: { type: 'number', minimum: 0, maximum: 1 },
    previewEvery: { type: 'integer', minimum: 0, maximum: GENERATE_LIMITS.steps.max },
    maxBatch: { type: 'integer', minimum: 1, maximum: GENERATE_LIMITS.numImages.max },
    backend: { enum: ['auto', 'webgpu', 'wasm'] },
  },
} as const;
