import { describeSchemaErrors } from '../validation/schemaMessages';
import { SAMPLER_NAMES, type SamplerName } from '../diffusion/schedulerConfig';
import { A1111_SAMPLER_NAMES } from '../export/infotext';
import { validateBatchRequest } from '../validation/validators.generated.js';

/**
 * Batch job files: JSON Lines, one generation request per line, in the spirit of batch APIs
 * that pair each request with a caller-chosen `custom_id`:
 *
 *   {"custom_id": "dog-beach", "prompt": "a photo of sks dog on the beach", "steps": 25, "seed": 7}
 *
 * Optional fields fall back to the app's current settings; ranges are the app's own (GENERATE_LIMITS), and a
 * width or height that is not a multiple the model needs fails that line when it runs. `sampler` takes the names
 * the form shows ("DDIM", "Euler a", "DPM++ 2M") or the ids ("ddim", "euler_a", "dpmpp_2m"), in any case.
 * Blank lines are skipped.
 */
export interface BatchRequest {
  custom_id: string;
  prompt: string;
  negative_prompt?: string;
  steps?: number;
  guidance_scale?: number;
  sampler?: SamplerName;
  seed?: number;
  num_images?: number;
  width?: number;
  height?: number;
}

/** A valid request and the 1-based line it came from. */
export interface BatchEntry {
  line: number;
  request: BatchRequest;
}

/** A problem with one line; `field` is a JSON Pointer (`/steps`) or absent for the line as a whole. */
export interface BatchLineError {
  line: number;
  field?: string;
  /** Full sentence, e.g. `line 3: /steps must be ≥ 1`. */
  message: string;
}

/** Sampler ids by every name a line may use for them, lower-cased. */
const SAMPLER_BY_NAME = new Map<string, SamplerName>(SAMPLER_NAMES.flatMap((id) => [[id, id] as const, [A1111_SAMPLER_NAMES[id].toLowerCase(), id] as const]));
export const SAMPLER_CHOICES_TEXT = `${SAMPLER_NAMES.map((id) => A1111_SAMPLER_NAMES[id]).join(', ')} (or ${SAMPLER_NAMES.join(', ')}; any case)`;

/** The line with its sampler name turned into the id, when it is one of the names people use. */
function withSamplerId(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !('sampler' in value) || typeof value.sampler !== 'string') return value;
  const id = SAMPLER_BY_NAME.get(value.sampler.trim().toLowerCase());
  return id ? { ...value, sampler: id } : value;
}

/** "invalid JSON at column 50: Expected ',' …": a line is one line, so only the column means anything. */
function describeJsonError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message);
  const column = /column (\d+)/.exec(message)?.[1] ?? (position ? String(Number(position[1]) + 1) : undefined);
  const what = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/\s*in JSON at position \d+/, '');
  return column ? `invalid JSON at column ${column}: ${what}` : `invalid JSON: ${what}`;
}

/**
 * Reads a JSONL batch file. Every line is checked on its own: valid lines are returned (so they
 * can run) and each bad line is reported by number and field; a `custom_id` seen before is
 * reported as a duplicate and its later line dropped.
 */
export function parseBatchJsonl(text: string): { entries: BatchEntry[]; errors: BatchLineError[] } {
  const entries: BatchEntry[] = [];
  const errors: BatchLineError[] = [];
  const firstLineOf = new Map<string, number>();
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const line = index + 1;
      if (raw.trim() === '') return;
      let value: unknown;
      try {
        value = withSamplerId(JSON.parse(raw));
      } catch (e) {
        errors.push({ line, message: `line ${line}: ${describeJsonError(e)}` });
        return;
      }
      if (!validateBatchRequest(value)) {
        for (const issue of describeSchemaErrors(validateBatchRequest.errors)) {
          const message =
            issue.field === ''
              ? `line ${line}: the request must be a JSON object`
              : issue.field === '/sampler'
                ? `line ${line}: /sampler must be one of ${SAMPLER_CHOICES_TEXT}`
                : `line ${line}: ${issue.message}`;
          errors.push({ line, field: issue.field || undefined, message });
        }
        return;
      }
      const request = value as BatchRequest;
      const earlier = firstLineOf.get(request.custom_id);
      if (earlier !== undefined) {
        errors.push({
          line,
          field: '/custom_id',
          message: `line ${line}: /custom_id ${JSON.stringify(request.custom_id)} is already used on line ${earlier}`,
        });
        return;
      }
      firstLineOf.set(request.custom_id, line);
      entries.push({ line, request });
    });
  return { entries, errors };
}
