/**
 * The JSON Schema of a `train` payload (trainingJob.ts checks it; compiled at build time, see
 * scripts/schemaRegistry.ts). `settings` is only required to be an object here: checkTrainSettings checks it
 * with its own schema and the rules between fields, and names the field under `/settings`.
 */
export const TRAIN_REQUEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['subjectId', 'settings', 'priorKeys', 'resume'],
  properties: {
    subjectId: { type: 'string', minLength: 1 },
    settings: { type: 'object' },
    priorKeys: { type: 'array', items: { type: 'string' }, maxItems: 1000 },
    resume: { type: 'boolean' },
    modelId: { type: 'string', minLength: 1 },
    backend: { enum: ['auto', 'webgpu', 'wasm'] },
  },
} as const;
