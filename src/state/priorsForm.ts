/**
 * The Class priors step's settings: how many class images, from which seed, with which sampler settings. Numbers stay
 * text until checked, so a bad entry is shown beside its field rather than silently coerced.
 */
import type { SamplerName } from '../diffusion/schedulerConfig';
import { GENERATE_LIMITS } from '../generation/generateLimits';
import { TRAIN_SETTINGS_SCHEMA } from '../dreambooth/trainSettings';

export interface PriorsFormValues {
  count: string;
  seed: string;
  sampler: SamplerName;
  steps: string;
  guidanceScale: string;
}

export interface PriorsSettings {
  count: number;
  seed: number;
  sampler: SamplerName;
  steps: number;
  guidanceScale: number;
}

export type PriorsField = keyof PriorsFormValues;
export type PriorsProblems = Partial<Record<PriorsField, string>>;

/** The same ranges training checks (class images, sampling steps) and generation allows (guidance). */
export const PRIORS_LIMITS = {
  count: { min: 1, max: TRAIN_SETTINGS_SCHEMA.properties.classImages.maximum },
  seed: GENERATE_LIMITS.seed,
  steps: { min: 1, max: TRAIN_SETTINGS_SCHEMA.properties.samplingSteps.maximum },
  guidanceScale: GENERATE_LIMITS.guidanceScale,
} as const;

const LABELS: Record<Exclude<PriorsField, 'sampler'>, string> = {
  count: 'Number of class images',
  seed: 'Seed',
  steps: 'Steps',
  guidanceScale: 'Guidance scale',
};

export const formFromPriorsSettings = (s: PriorsSettings): PriorsFormValues => ({
  count: String(s.count),
  seed: String(s.seed),
  sampler: s.sampler,
  steps: String(s.steps),
  guidanceScale: String(s.guidanceScale),
});

export function checkPriorsForm(values: PriorsFormValues): { settings: PriorsSettings } | { problems: PriorsProblems } {
  const problems: PriorsProblems = {};
  const number = (field: Exclude<PriorsField, 'sampler'>) => {
    const { min, max } = PRIORS_LIMITS[field];
    const integer = field !== 'guidanceScale';
    const text = values[field].trim();
    const value = Number(text);
    const label = LABELS[field];
    const kind = integer ? 'a whole number' : 'a number';
    if (text === '' || !Number.isFinite(value))
      problems[field] = `${label} must be ${kind} from ${min} to ${max}${text === '' ? '; it is empty' : `, not “${text}”`}.`;
    else if (integer && !Number.isInteger(value)) problems[field] = `${label} must be a whole number from ${min} to ${max}, not ${text}.`;
    else if (value < min || value > max) problems[field] = `${label} must be from ${min} to ${max}; ${text} is ${value < min ? 'too small' : 'too large'}.`;
    return value;
  };
  const settings: PriorsSettings = {
    count: number('count'),
    seed: number('seed'),
    sampler: values.sampler,
    steps: number('steps'),
    guidanceScale: number('guidanceScale'),
  };
  return Object.keys(problems).length > 0 ? { problems } : { settings };
}
