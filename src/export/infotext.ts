import type { SamplerName } from '../diffusion/schedulerConfig';

/**
 * AUTOMATIC1111's "infotext": the generation parameters it stores in a PNG's `parameters` text
 * chunk and that other tools (and A1111's "PNG Info" tab) read back:
 *
 *   a photo of sks dog on the beach
 *   Negative prompt: blurry
 *   Steps: 25, Sampler: DPM++ 2M, CFG scale: 7, Seed: 123, Size: 64x64, Model: dreambooth-sks
 *
 * Written like `create_infotext` in A1111's modules/processing.py and read like
 * `parse_generation_parameters` in modules/infotext_utils.py: values containing ",", ":" or a
 * newline are JSON-quoted; the parameter line is the last line if it holds at least 3 "Key: value"
 * pairs; prompt and negative-prompt lines are trimmed.
 */
export interface Infotext {
  prompt: string;
  /** Empty when there is none (the line is then left out). */
  negativePrompt: string;
  steps: number;
  /** A1111's sampler name, e.g. "DPM++ 2M" (see `A1111_SAMPLER_NAMES`). */
  sampler: string;
  cfgScale: number;
  seed: number;
  width: number;
  height: number;
  modelHash?: string;
  model?: string;
  /** Further "Key: value" pairs, in order. */
  extra: Record<string, string>;
}

/** What parsing can recover from foreign text: known fields only when present and well-formed. */
export type ParsedInfotext = Partial<Infotext> & Pick<Infotext, 'prompt' | 'negativePrompt' | 'extra'>;

/** A1111's names for the samplers implemented here. */
export const A1111_SAMPLER_NAMES: Readonly<Record<SamplerName, string>> = {
  ddim: 'DDIM',
  euler_a: 'Euler a',
  dpmpp_2m: 'DPM++ 2M',
};

/** The sampler an A1111 name refers to, if it is one implemented here. */
export function samplerFromA1111Name(name: string): SamplerName | undefined {
  return (Object.keys(A1111_SAMPLER_NAMES) as SamplerName[]).find((s) => A1111_SAMPLER_NAMES[s] === name);
}

// re_param from A1111's infotext_utils.py; Python's \w is Unicode-aware, hence \p{L}\p{N}_.
const PARAM = /\s*([\p{L}\p{N}_][\p{L}\p{N}_ \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/gu;
const KEY = /^[\p{L}\p{N}_][\p{L}\p{N}_ \-/]+$/u;
const NEGATIVE_PREFIX = 'Negative prompt:';

/** The infotext A1111 would write for these parameters. */
export function formatInfotext(info: Infotext): string {
  const params: [string, string | number | undefined][] = [
    ['Steps', info.steps],
    ['Sampler', info.sampler],
    ['CFG scale', info.cfgScale],
    ['Seed', info.seed],
    ['Size', `${info.width}x${info.height}`],
    ['Model hash', info.modelHash],
    ['Model', info.model],
    ...Object.entries(info.extra),
  ];
  const line = params
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => {
      if (!KEY.test(key)) throw new RangeError(`infotext key "${key}" must be letters, digits, spaces, "_", "-" or "/"`);
      return `${key}: ${quote(String(value))}`;
    })
    .join(', ');
  const negative = info.negativePrompt ? `\n${NEGATIVE_PREFIX} ${info.negativePrompt}` : '';
  return `${info.prompt}${negative}\n${line}`.trim();
}

/** Reads an infotext as A1111 does; unknown keys, and known ones whose value does not parse, land in `extra`. */
export function parseInfotext(text: string): ParsedInfotext {
  const lines = text.trim().split('\n');
  let paramLine = lines.pop() ?? '';
  if (countParams(paramLine) < 3) {
    lines.push(paramLine);
    paramLine = '';
  }
  const prompt: string[] = [];
  const negative: string[] = [];
  let inNegative = false;
  for (const raw of lines) {
    let line = raw.trim();
    if (line.startsWith(NEGATIVE_PREFIX)) {
      inNegative = true;
      line = line.slice(NEGATIVE_PREFIX.length).trim();
    }
    (inNegative ? negative : prompt).push(line);
  }
  const result: ParsedInfotext = { prompt: prompt.join('\n'), negativePrompt: negative.join('\n'), extra: {} };
  for (const match of paramLine.matchAll(PARAM)) {
    const key = match[1];
    const value = unquote(match[2]);
    if (!assignKnown(result, key, value)) result.extra[key] = value;
  }
  return result;
}

function assignKnown(result: ParsedInfotext, key: string, value: string): boolean {
  const integer = /^-?\d+$/.test(value) ? Number(value) : undefined;
  const number = value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : undefined;
  switch (key) {
    case 'Steps':
      return integer !== undefined && ((result.steps = integer), true);
    case 'Seed':
      return integer !== undefined && ((result.seed = integer), true);
    case 'CFG scale':
      return number !== undefined && ((result.cfgScale = number), true);
    case 'Sampler':
      result.sampler = value;
      return true;
    case 'Model':
      result.model = value;
      return true;
    case 'Model hash':
      result.modelHash = value;
      return true;
    case 'Size': {
      const size = /^(\d+)x(\d+)$/.exec(value);
      if (!size) return false;
      result.width = Number(size[1]);
      result.height = Number(size[2]);
      return true;
    }
    default:
      return false;
  }
}

function countParams(line: string): number {
  return [...line.matchAll(PARAM)].length;
}

/** A1111's quote(), plus values that start with a quote mark, which its parser would otherwise unquote. */
function quote(value: string): string {
  return /[,:\n]/.test(value) || value.startsWith('"') ? JSON.stringify(value) : value;
}

function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : value;
  } catch {
    return value;
  }
}
