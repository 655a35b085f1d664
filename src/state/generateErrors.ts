import { JobError } from '../protocol/jobs';

/** A failed generation, as the person reads it: what went wrong and what to do about it. */
export interface GenerateFailure {
  reason: string;
  fix: string;
  /** The request field the problem is about, when the worker named one. */
  field?: string;
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
  if (/out of memory|allocat|exceeds the maximum|too large/i.test(message)) {
    return { reason: message, fix: 'Make fewer images at once (they are denoised together), close other GPU-heavy tabs, and try again.' };
  }
  if (/device (was |is )?lost|lost the device/i.test(message)) {
    return { reason: message, fix: 'The graphics device stopped responding. Reload the page to start a fresh worker, then try again.' };
  }
  if (error instanceof JobError && error.code === 'unknown-job') {
    return { reason: message, fix: 'The page and its worker are from different versions. Reload the page.' };
  }
  return { reason: message, fix: 'Try again. If it keeps failing, reload the page; your gallery is kept.' };
}
