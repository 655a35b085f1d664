import { SAMPLER_NAMES } from '../diffusion/schedulerConfigSchema';
import { GENERATE_LIMIT_SCHEMAS as limits } from '../generation/generateLimits';

/** The JSON Schema of one batch file line (batchRequests.ts checks it; compiled at build time, see scripts/schemaRegistry.ts). */
export const BATCH_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['custom_id', 'prompt'],
  properties: {
    custom_id: { type: 'string', minLength: 1, maxLength: 200 },
    prompt: limits.prompt,
    negative_prompt: limits.negativePrompt,
    steps: limits.steps,
    guidance_scale: limits.guidanceScale,
    sampler: { enum: [...SAMPLER_NAMES] },
    seed: limits.seed,
    num_images: limits.numImages,
    width: limits.width,
    height: limits.height,
  },
} as const;
