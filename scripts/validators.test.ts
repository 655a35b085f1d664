import Ajv from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as generated from '../src/validation/validators.generated.js';
import { SCHEMA_REGISTRY } from './schemaRegistry';
import { GENERATED_DTS, GENERATED_JS, compileValidators } from './compileValidators';

const root = resolve(import.meta.dirname, '..');

/** Inputs that reach every property of a schema with values of each JSON type, and the usual wrong shapes. */
function probes(schema: { properties?: Record<string, unknown> }): unknown[] {
  const keys = Object.keys(schema.properties ?? {});
  const values = [null, true, -1, 0, 0.5, 3, 1e12, '', 'x'.repeat(300), 'gated', [], [1, 2], ['a'], [{}], {}];
  return [
    null,
    'text',
    42,
    [],
    {},
    { unknown_key: 1 },
    { _private: 'x' },
    ...values.map((v) => Object.fromEntries(keys.map((k) => [k, v]))),
    ...keys.flatMap((k) => values.map((v) => ({ [k]: v }))),
  ];
}

describe('ahead-of-time compiled validators', () => {
  it('are what the schema registry compiles to (run `npm run validators` after changing a schema)', () => {
    const { js, dts } = compileValidators(SCHEMA_REGISTRY);
    expect(readFileSync(resolve(root, GENERATED_JS), 'utf8') === js, `${GENERATED_JS} is stale: run npm run validators`).toBe(true);
    expect(readFileSync(resolve(root, GENERATED_DTS), 'utf8'), `${GENERATED_DTS} is stale: run npm run validators`).toBe(dts);
  });

  it('give the results, errors and filled-in defaults of ajv compiling the same schema at run time', () => {
    for (const [name, { schema, options }] of Object.entries(SCHEMA_REGISTRY)) {
      const reference = new Ajv(options).compile(schema);
      const validate = generated[name as keyof typeof generated];
      for (const probe of probes(schema)) {
        const [a, b] = [structuredClone(probe), structuredClone(probe)];
        expect(validate(a), `${name} ${JSON.stringify(probe)}`).toBe(reference(b));
        expect(validate.errors ?? null, `${name} ${JSON.stringify(probe)}`).toEqual(reference.errors ?? null);
        expect(a).toEqual(b);
      }
    }
  });

  it('are the only validators: no app module imports ajv at run time', () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
      );
    const importers = sources(resolve(root, 'src')).filter((file) => /^import (?!type )[^;]*from 'ajv(\/[^']*)?';/m.test(readFileSync(file, 'utf8')));
    expect(importers.map((f) => relative(root, f))).toEqual([]);
  });
});
