import { explainBackendError } from '../generation/backendErrors';
import { JobError } from '../protocol/jobs';

/** A failed training run as the person reads it: what went wrong and what to do about it. */
export interface TrainFailure {
  reason: string;
  fix: string;
  /** The settings field the problem is about, when the worker named one. */
  field?: string;
  /** The library's own error text, behind a "Technical detail" disclosure. */
  detail?: string;
}

/** Quota errors arrive as StorageFullError on the page, or as their message from the worker (errors cross as text). */
const STORAGE_FULL = /storage is full|quota/i;

export function isStorageFull(error: unknown): boolean {
  const name = error instanceof Error || error instanceof DOMException ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  return name === 'StorageFullError' || name === 'QuotaExceededError' || STORAGE_FULL.test(message);
}

export const STORAGE_FULL_FIX =
  'Delete checkpoints you no longer need (below), subjects or gallery images, or lower “Checkpoints kept” under Advanced; ' +
  'then Resume: training continues from the last checkpoint that was saved.';

/** Explains why a train job failed, with the fix the person can apply. */
export function explainTrainFailure(error: unknown): TrainFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (isStorageFull(error)) return { reason: 'Browser storage is full, so the checkpoint could not be saved.', fix: STORAGE_FULL_FIX, detail: message };
  if (error instanceof JobError && error.code === 'bad-input') {
    return {
      reason: message,
      fix: error.field ? `Change ${error.field} under Advanced settings and start again.` : 'Change the settings named above and start again.',
      ...(error.field ? { field: error.field } : {}),
    };
  }
  if (error instanceof JobError && error.code === 'device-lost') {
    // The worker's sentence names the step and the checkpoint; the client has already replaced the worker.
    return { reason: message, fix: 'Resume starts a fresh worker; if the graphics card stays unavailable, choose CPU in the backend setting first.' };
  }
  const backend = explainBackendError(message);
  if (backend) return { ...backend, detail: message };
  if (error instanceof JobError && error.code === 'unknown-job') {
    return { reason: 'The page and its worker are from different versions.', fix: 'Reload the page.', detail: message };
  }
  if (error instanceof JobError && error.code === 'failed') {
    // The worker's own sentences (e.g. another tab trains this subject) are written for people: show them as they are.
    return { reason: message, fix: 'Resume continues from the last checkpoint. If it keeps failing, reload the page; checkpoints are kept.' };
  }
  return {
    reason: 'Something went wrong while training.',
    fix: 'Resume continues from the last checkpoint. If it keeps failing, reload the page; checkpoints are kept.',
    detail: message,
  };
}
