import { describe, expect, it } from 'vitest';
import { parseBatchJsonl } from '../batch/batchRequests';
import { checkGenerateForm, DEFAULT_FORM } from '../state/generateForm';
import { checkGenerateRequest } from './generateRequest';
import { GENERATE_LIMITS } from './generateLimits';

const base = { prompt: 'a dog', sampler: 'ddim', steps: 10, guidanceScale: 5, seed: 1, numImages: 1 } as const;

/** Whether the worker's check, a batch line and (for the fields it has) the Generate form accept one setting. */
function verdicts(field: 'steps' | 'guidanceScale' | 'seed' | 'numImages' | 'width' | 'height', value: number) {
  const batchName = { steps: 'steps', guidanceScale: 'guidance_scale', seed: 'seed', numImages: 'num_images', width: 'width', height: 'height' }[field];
  let worker = true;
  try {
    checkGenerateRequest({ ...base, [field]: value });
  } catch {
    worker = false;
  }
  const batch = parseBatchJsonl(JSON.stringify({ custom_id: 'a', prompt: 'a dog', [batchName]: value })).errors.length === 0;
  if (field === 'width' || field === 'height') return { worker, batch };
  const form = 'settings' in checkGenerateForm({ ...DEFAULT_FORM, seedMode: 'fixed', seed: '1', [field]: String(value) });
  return { worker, batch, form };
}

describe('GENERATE_LIMITS', () => {
  const cases = Object.entries({
    steps: GENERATE_LIMITS.steps,
    guidanceScale: GENERATE_LIMITS.guidanceScale,
    seed: GENERATE_LIMITS.seed,
    numImages: GENERATE_LIMITS.numImages,
    width: GENERATE_LIMITS.imageSide,
    height: GENERATE_LIMITS.imageSide,
  }) as [Parameters<typeof verdicts>[0], { min: number; max: number }][];

  it.each(cases)('the worker, batch files and the form agree on %s at and just past each end', (field, { min, max }) => {
    const step = field === 'guidanceScale' ? 0.5 : 1;
    for (const [value, ok] of [
      [min, true],
      [max, true],
      [min - step, false],
      [max + step, false],
    ] as const) {
      const got = verdicts(field, value);
      expect(Object.values(got), `${field} = ${value}`).toEqual(Object.values(got).map(() => ok));
    }
  });

  it('leaves the size multiple to the model: batch lines and worker requests both accept 40 and 60', () => {
    for (const side of [40, 60]) expect(verdicts('width', side)).toEqual({ worker: true, batch: true });
  });
});
