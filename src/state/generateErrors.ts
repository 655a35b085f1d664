import { explainBackendError } from '../generation/backendErrors';
import { JobError } from '../protocol/jobs';

/** A failed generation, as the person reads it: what went wrong and what to do about it. */
export interface GenerateFailure {
  reason: string;
  fix: string;
  /** The request field the problem is about, when the worker named one. */
  field?: string;
  /** The library's own error text, shown behind a "Technical detail" disclosure. */
  detail?: string;
}

const FIELD_LABELS: Record<string, string> = {
  prompt: 'the prompt',
  negativePrompt: 'the negative prompt',
  sampler: 'the sampler',
  steps: 'the steps',
  guidanceScale: 'the guidance scale',
  seed: 'the seed',
  numImages: 'the number of images',
  width: 'the image size',
  height: 'the image size',
};

/** Explains why a generate or loadModel job failed, with the fix the person can apply. */
export function explainGenerateFailure(error: unknown): GenerateFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof JobError && error.code === 'bad-input') {
    const label = error.field ? FIELD_LABELS[error.field] : undefined;
    return {
      reason: message,
      fix: label ? `Change ${label} and generate again.` : 'Change the settings named above and generate again.',
      ...(error.field ? { field: error.field } : {}),
    };
  }
  const backend = explainBackendError(message);
  if (backend) return { ...backend, detail: message };
  if (error instanceof JobError && error.code === 'unknown-job') {
    return { reason: 'The page and its worker are from different versions.', fix: 'Reload the page.', detail: message };
  }
  return { reason: 'Something went wrong while generating.', fix: 'Try again. If it keeps failing, reload the page; your gallery is kept.', detail: message };
}
