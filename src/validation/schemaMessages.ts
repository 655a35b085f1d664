import type { ErrorObject } from 'ajv';

/** One problem found in user input, tied to the JSON Pointer of the offending field. */
export interface FieldIssue {
  /** JSON Pointer of the field (`/steps`), or `''` for the document itself. */
  field: string;
  /** Human sentence naming the field, e.g. `/steps must be an integer`. */
  message: string;
}

/**
 * Turns ajv errors into sentences that name the exact field. Ajv reports a missing or unknown
 * property against the parent object, so those are re-pointed at the property itself.
 */
export function describeSchemaErrors(errors: readonly ErrorObject[] | null | undefined): FieldIssue[] {
  return (errors ?? []).map((e) => {
    const at = e.instancePath;
    switch (e.keyword) {
      case 'required': {
        const field = `${at}/${String(e.params.missingProperty)}`;
        return { field, message: `${field} is required` };
      }
      case 'additionalProperties': {
        const field = `${at}/${String(e.params.additionalProperty)}`;
        return { field, message: `${field} is not a known field` };
      }
      case 'enum': {
        const allowed = (e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
        return { field: at, message: `${at || 'value'} must be one of ${allowed}` };
      }
      case 'type':
        return { field: at, message: `${at || 'value'} must be ${article(String(e.params.type))}` };
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        return { field: at, message: `${at || 'value'} must be ${COMPARISON[e.keyword]} ${String(e.params.limit)}` };
      default:
        return { field: at, message: `${at || 'value'} ${e.message ?? 'is invalid'}` };
    }
  });
}

const COMPARISON: Record<string, string> = {
  minimum: '≥',
  maximum: '≤',
  exclusiveMinimum: '>',
  exclusiveMaximum: '<',
};

function article(type: string): string {
  const name = type.replace(/,/g, ' or ');
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}
