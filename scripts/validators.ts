/**
 * Writes the ahead-of-time compiled validators (src/validation/validators.generated.js and .d.ts) from the schema
 * registry. Run it after adding or changing a schema:
 *
 *   npm run validators
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SCHEMA_REGISTRY } from './schemaRegistry';
import { GENERATED_DTS, GENERATED_JS, compileValidators } from './compileValidators';

const root = resolve(import.meta.dirname, '..');
const { js, dts } = compileValidators(SCHEMA_REGISTRY);
writeFileSync(resolve(root, GENERATED_JS), js);
writeFileSync(resolve(root, GENERATED_DTS), dts);
console.log(`wrote ${GENERATED_JS} and ${GENERATED_DTS}: ${Object.keys(SCHEMA_REGISTRY).join(', ')}`);
