import { END_OF_TEXT_ID } from './clipTokenizer';

/** A subject identifier: letters, digits, `_`, `<`, `>`, `-`; 1 to 32 of them. */
export const IDENTIFIER_PATTERN = '^[\\p{L}\\p{N}_<>-]{1,32}$';

/** The JSON Schema of saved compact vocabulary JSON (compactVocabulary.ts checks it; compiled at build time, see scripts/schemaRegistry.ts). */
export const COMPACT_VOCABULARY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'version', 'clipIds', 'reservedRows', 'identifiers'],
  properties: {
    format: { enum: ['clip-compact-vocabulary'] },
    version: { enum: [1] },
    clipIds: { type: 'array', items: { type: 'integer', minimum: 0, maximum: END_OF_TEXT_ID } },
    reservedRows: { type: 'integer', minimum: 0 },
    identifiers: { type: 'array', items: { type: 'string', pattern: IDENTIFIER_PATTERN } },
  },
} as const;
