import type { Options } from 'ajv';
import { BATCH_REQUEST_SCHEMA } from '../src/batch/batchRequestSchema';
import { SCHEDULER_CONFIG_SCHEMA } from '../src/diffusion/schedulerConfigSchema';
import { PRIORS_REQUEST_SCHEMA } from '../src/dreambooth/classPriorsSchema';
import { TRAIN_REQUEST_SCHEMA } from '../src/dreambooth/trainRequestSchema';
import { TRAIN_SETTINGS_SCHEMA } from '../src/dreambooth/trainSettingsSchema';
import { GENERATE_REQUEST_SCHEMA } from '../src/generation/generateRequestSchema';
import { CLIP_TEXT_CONFIG_SCHEMA, MODEL_CONFIG_OPTIONS, MODEL_INDEX_SCHEMA, UNET_CONFIG_SCHEMA, VAE_CONFIG_SCHEMA } from '../src/model/configSchemas';
import { COMPACT_VOCABULARY_SCHEMA } from '../src/text/compactVocabularySchema';

/**
 * Every JSON Schema the app validates with, by the name of its validator. The validators are compiled ahead of time
 * with ajv's standalone code generation (`npm run validators` writes validators.generated.js and its .d.ts, both
 * committed), so no code is compiled at run time and the Content Security Policy needs no `'unsafe-eval'`;
 * scripts/validators.test.ts fails while the generated file differs from what this registry compiles to.
 *
 * Adding a schema: one entry here, then `npm run validators`; import it as
 * `import { validateX } from '../src/validation/validators.generated.js'`.
 * The schema modules import nothing that imports the generated validators (so the generator can always load them).
 */
export interface SchemaEntry {
  schema: object;
  /** Ajv options the validator is compiled with (`code` is set by the generator). */
  options: Options;
}

export const SCHEMA_REGISTRY = {
  validateGenerateRequest: { schema: GENERATE_REQUEST_SCHEMA, options: { allErrors: true } },
  validateBatchRequest: { schema: BATCH_REQUEST_SCHEMA, options: { allErrors: true } },
  validateTrainSettings: { schema: TRAIN_SETTINGS_SCHEMA, options: { allErrors: true } },
  validatePriorsRequest: { schema: PRIORS_REQUEST_SCHEMA, options: { allErrors: true } },
  validateTrainRequest: { schema: TRAIN_REQUEST_SCHEMA, options: { allErrors: true } },
  validateSchedulerConfig: { schema: SCHEDULER_CONFIG_SCHEMA, options: { allErrors: true } },
  validateCompactVocabulary: { schema: COMPACT_VOCABULARY_SCHEMA, options: { allErrors: true, unicodeRegExp: true } },
  validateUNetConfig: { schema: UNET_CONFIG_SCHEMA, options: MODEL_CONFIG_OPTIONS },
  validateVAEConfig: { schema: VAE_CONFIG_SCHEMA, options: MODEL_CONFIG_OPTIONS },
  validateCLIPTextConfig: { schema: CLIP_TEXT_CONFIG_SCHEMA, options: MODEL_CONFIG_OPTIONS },
  validateModelIndex: { schema: MODEL_INDEX_SCHEMA, options: MODEL_CONFIG_OPTIONS },
} satisfies Record<string, SchemaEntry>;
