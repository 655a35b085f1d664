import { SAMPLER_NAMES, type SamplerName } from '../diffusion/schedulerConfig';
import { A1111_SAMPLER_NAMES } from '../export/infotext';
import { GENERATE_LIMITS } from '../generation/generateLimits';
import type { GalleryParams } from '../storage/galleryRecords';

/** The form checks the same ranges as the worker and batch files; re-exported for the form UI. */
export { GENERATE_LIMITS };

/** The form as typed: numbers stay text until checked, so a bad entry can be shown rather than silently coerced. */
export interface GenerateFormValues {
  prompt: string;
  negativePrompt: string;
  sampler: SamplerName;
  steps: string;
  guidanceScale: string;
  seedMode: 'random' | 'fixed';
  seed: string;
  numImages: string;
}

/** Checked settings; `seed` is null when each run draws a fresh random one. */
export interface GenerateSettings {
  prompt: string;
  negativePrompt: string;
  sampler: SamplerName;
  steps: number;
  guidanceScale: number;
  seed: number | null;
  numImages: number;
}

export type GenerateField = 'prompt' | 'negativePrompt' | 'steps' | 'guidanceScale' | 'seed' | 'numImages';
export type GenerateProblems = Partial<Record<GenerateField, string>>;

export const DEFAULT_FORM: GenerateFormValues = {
  prompt: 'a photo of a cat',
  negativePrompt: '',
  sampler: 'dpmpp_2m',
  steps: '20',
  guidanceScale: '7.5',
  seedMode: 'random',
  seed: '',
  numImages: '1',
};

/** Samplers in the order the form lists them, with the names other tools use. */
export const SAMPLER_OPTIONS = SAMPLER_NAMES.map((id) => ({ id, label: A1111_SAMPLER_NAMES[id] }));

/** Checks the form; returns the settings, or one sentence per bad field saying what is allowed. */
export function checkGenerateForm(values: GenerateFormValues): { settings: GenerateSettings } | { problems: GenerateProblems } {
  const problems: GenerateProblems = {};
  const { textLength, steps, guidanceScale, seed, numImages } = GENERATE_LIMITS;
  const text = (field: 'prompt' | 'negativePrompt', label: string) => {
    if (values[field].length > textLength) problems[field] = `${label} is ${values[field].length} characters long; at most ${textLength} are allowed.`;
    return values[field].trim();
  };
  const number = (field: 'steps' | 'guidanceScale' | 'seed' | 'numImages', label: string, range: { min: number; max: number }) =>
    checkNumber(values[field], label, range, field !== 'guidanceScale', (problem) => (problems[field] = problem));
  if (!SAMPLER_NAMES.includes(values.sampler)) throw new RangeError(`unknown sampler ${String(values.sampler)}`);

  const settings: GenerateSettings = {
    prompt: text('prompt', 'The prompt'),
    negativePrompt: text('negativePrompt', 'The negative prompt'),
    sampler: values.sampler,
    steps: number('steps', 'Steps', steps),
    guidanceScale: number('guidanceScale', 'Guidance scale', guidanceScale),
    seed: values.seedMode === 'random' ? null : number('seed', 'Seed', seed),
    numImages: number('numImages', 'Number of images', numImages),
  };
  return Object.keys(problems).length > 0 ? { problems } : { settings };
}

function checkNumber(raw: string, label: string, { min, max }: { min: number; max: number }, integer: boolean, report: (problem: string) => void): number {
  const text = raw.trim();
  const value = Number(text);
  const kind = integer ? 'a whole number' : 'a number';
  if (text === '' || !Number.isFinite(value)) report(`${label} must be ${kind} from ${min} to ${max}${text === '' ? '; it is empty' : `, not “${text}”`}.`);
  else if (integer && !Number.isInteger(value)) report(`${label} must be a whole number from ${min} to ${max}, not ${text}.`);
  else if (value < min || value > max) report(`${label} must be from ${min} to ${max}; ${text} is ${value < min ? 'too small' : 'too large'}.`);
  return value;
}

/** A fresh seed, uniformly from the whole range. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/** The form filled with a stored image's settings, its seed fixed: "re-run" makes the same image again. */
export function formFromParams(params: GalleryParams, numImages = 1): GenerateFormValues {
  return {
    prompt: params.prompt,
    negativePrompt: params.negativePrompt,
    sampler: params.sampler,
    steps: String(params.steps),
    guidanceScale: String(params.guidanceScale),
    seedMode: 'fixed',
    seed: String(params.seed),
    numImages: String(numImages),
  };
}
