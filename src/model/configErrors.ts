import type { ErrorObject, ValidateFunction } from 'ajv';

/**
 * Turns JSON Schema validation of a component config into one readable error per problem,
 * naming the file, the key and the offending value, e.g.
 * `unet/config.json: "attention_type": "gated" is not supported (supported: "default")`.
 * The validators are compiled at build time (configSchemas.ts, scripts/schemaRegistry.ts).
 */

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

function show(v: unknown): string {
  return v === undefined ? 'undefined' : JSON.stringify(v);
}

/** `/down_block_types/1` → `"down_block_types"[1]`. */
function keyOf(path: string): string {
  const parts = path.split('/').slice(1);
  if (parts.length === 0) return 'the config';
  return parts.map((p, i) => (i > 0 && /^\d+$/.test(p) ? `[${p}]` : i === 0 ? `"${p}"` : `."${p}"`)).join('');
}

function valueAt(data: unknown, path: string): unknown {
  let v: unknown = data;
  for (const p of path.split('/').slice(1)) v = (v as Record<string, unknown> | undefined)?.[p.replace(/~1/g, '/').replace(/~0/g, '~')];
  return v;
}

function describe(e: ErrorObject, data: unknown, known: Set<string>, unknownKeyHint: string): string {
  const key = keyOf(e.instancePath);
  const top = e.instancePath.split('/')[1];
  if (top !== undefined && !known.has(top)) return `${key}: ${show(valueAt(data, e.instancePath))} is not supported (${unknownKeyHint})`;
  const value = show(valueAt(data, e.instancePath));
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'enum':
      return `${key}: ${value} is not supported (supported: ${(p.allowedValues as unknown[]).map(show).join(', ')})`;
    case 'const':
      return `${key}: ${value} is not supported (supported: ${show(p.allowedValue)})`;
    case 'type':
      return `${key}: ${value} must be ${String(p.type).replace(',', ' or ')}`;
    case 'required':
      return `"${String(p.missingProperty)}" is missing`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'minItems':
    case 'maxItems':
      return `${key}: ${value} ${e.message}`;
    default:
      return `${key}: ${value} ${e.message ?? 'is invalid'}`;
  }
}

/**
 * A checker that runs `validate` (compiled from `schema` with defaults on) on a copy, so the defaults fill the copy,
 * and throws {@link ConfigError}.
 */
export function configChecker<T>(
  validate: ValidateFunction,
  schema: { properties: Record<string, unknown> },
  unknownKeyHint: string,
): (json: unknown, source: string) => T {
  const known = new Set(Object.keys(schema.properties));
  return (json, source) => {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(source, ['is not a JSON object']);
    const copy = structuredClone(json);
    if (!validate(copy)) {
      const seen = new Set<string>();
      const problems: string[] = [];
      for (const e of validate.errors ?? []) {
        const msg = describe(e, copy, known, unknownKeyHint);
        if (!seen.has(msg)) {
          seen.add(msg);
          problems.push(msg);
        }
      }
      throw new ConfigError(source, problems);
    }
    return copy as T;
  };
}

/** Parses JSON text with an error that names the file. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(source, [`is not valid JSON (${(e as Error).message})`]);
  }
}
