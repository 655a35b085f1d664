/**
 * The Train step's settings form: every TrainSettings field as typed (numbers stay text until checked, so a bad
 * entry is shown rather than silently coerced), checked with the contract's own `checkTrainSettings`, so the page
 * shows the very sentence the worker would refuse with, next to the field it names.
 */
import { JobError } from '../protocol/jobs';
import { checkTrainSettings, PRESETS, type PresetId, type TrainSettings } from '../dreambooth/trainSettings';

export type TrainField = keyof TrainSettings;

type NumberField = { [K in TrainField]: TrainSettings[K] extends number ? K : never }[TrainField];

export type TrainFormValues = { [K in TrainField]: K extends NumberField ? string : TrainSettings[K] };

export type TrainProblems = Partial<Record<TrainField, string>>;

const NUMBER_FIELDS = new Set<TrainField>((Object.keys(PRESETS[0]!.settings) as TrainField[]).filter((k) => typeof PRESETS[0]!.settings[k] === 'number'));

export const isNumberField = (field: TrainField): field is NumberField => NUMBER_FIELDS.has(field);

export function formFromSettings(settings: TrainSettings): TrainFormValues {
  const form: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) form[key] = typeof value === 'number' ? String(value) : value;
  return form as TrainFormValues;
}

/** Which preset the form equals, field for field; null once any field differs ("custom"). */
export function matchingPreset(values: TrainFormValues): PresetId | null {
  const preset = PRESETS.find((p) => (Object.keys(p.settings) as TrainField[]).every((k) => sameValue(values[k], p.settings[k])));
  return preset?.id ?? null;
}

const sameValue = (typed: unknown, value: unknown) => (typeof value === 'number' ? typed !== '' && Number(typed) === value : typed === value);

/**
 * Checks the form: the settings, or one message per bad field. `checkTrainSettings` stops at its first problem, so
 * each problem found is recorded and its field set back to `fallback`'s value, and the check runs again — every
 * field's own message, in the contract's words (e.g. "/loraRank must be ≤ 128").
 */
export function checkTrainForm(values: TrainFormValues, fallback: TrainSettings): { settings: TrainSettings } | { problems: TrainProblems } {
  const problems: TrainProblems = {};
  const candidate: Record<string, unknown> = {};
  for (const key of Object.keys(fallback) as TrainField[]) {
    const typed = values[key];
    if (!isNumberField(key)) {
      candidate[key] = typed;
      continue;
    }
    const text = String(typed).trim();
    const value = Number(text);
    if (text === '' || !Number.isFinite(value)) {
      problems[key] = text === '' ? `/${key} is empty; it must be a number` : `/${key} must be a number, not “${text}”`;
      candidate[key] = fallback[key];
    } else candidate[key] = value;
  }
  for (let round = 0; round <= Object.keys(fallback).length; round++) {
    try {
      const settings = checkTrainSettings(candidate);
      return Object.keys(problems).length > 0 ? { problems } : { settings };
    } catch (error) {
      if (!(error instanceof JobError) || !error.field || !(error.field in fallback)) throw error;
      const field = error.field as TrainField;
      problems[field] ??= error.message;
      if (candidate[field] === fallback[field]) break; // the fallback itself is refused (a cross-field rule): stop here
      candidate[field] = fallback[field];
    }
  }
  return { problems };
}
