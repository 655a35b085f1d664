import { MAX_SEED } from '../diffusion/random';
import { SAMPLER_NAMES } from '../diffusion/schedulerConfigSchema';

const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum }) as const;

const properties = {
  steps: int(1, 20_000),
  learningRate: { type: 'number', exclusiveMinimum: 0, maximum: 0.01 },
  schedule: { enum: ['constant', 'warmup', 'cosine'] },
  warmupSteps: int(0, 20_000),
  batchSize: int(1, 16),
  gradientAccumulation: int(1, 64),
  priorLossWeight: { type: 'number', minimum: 0, maximum: 10 },
  classImages: int(0, 1000),
  unet: { enum: ['lora', 'full'] },
  loraRank: int(1, 128),
  loraAlpha: { type: 'number', exclusiveMinimum: 0, maximum: 1024 },
  textEncoder: { enum: ['frozen', 'identifier', 'full'] },
  flip: { type: 'boolean' },
  maxGradNorm: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
  weightDecay: { type: 'number', minimum: 0, maximum: 1 },
  seed: int(0, MAX_SEED),
  checkpointEvery: int(1, 20_000),
  keepCheckpoints: int(1, 20),
  validationEvery: int(0, 20_000),
  sampler: { enum: [...SAMPLER_NAMES] },
  samplingSteps: int(1, 200),
  guidanceScale: { type: 'number', minimum: 0, maximum: 100 },
} as const;

/**
 * The JSON Schema of training settings (`TrainSettings` in trainSettings.ts, which checks it; compiled at build time,
 * see scripts/schemaRegistry.ts). Every setting is required; trainSettings.test.ts checks the keys are the presets' own.
 */
export const TRAIN_SETTINGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
} as const;
