import { create } from 'zustand';
import { zipBatchResults } from '../batch/batchResults';
import { batchOutcomeFromResult, generateRequestFromBatch } from '../generation/batchAdapter';
import { JobError } from '../protocol/jobs';
import { cancelQueue, markDone, markFailed, markRunning, nextQueuedIndex, queueFromJsonl, queueOutcomes, type BatchQueue } from './batchQueue';
import { explainGenerateFailure } from './generateErrors';
import { randomSeed } from './generateForm';
import { previewInterval, type GenerateStore } from './generateStore';

/** Batch files larger than this are refused before reading (a line is a few hundred bytes). */
export const MAX_BATCH_FILE_BYTES = 5 * 1024 * 1024;

export interface BatchState {
  queue: BatchQueue | null;
  running: boolean;
  /** A problem with the file or the start, in a sentence that says what to do. */
  message: string | null;
  /** Reads a JSONL file into a new queue (refused while a queue runs). */
  importFile(file: File): Promise<void>;
  /** Runs the queued lines one after another through the Generate step's runner. */
  start(): Promise<void>;
  /** Stops the running line and drops the waiting ones; finished lines keep their results. */
  cancel(): void;
  clear(): void;
  /** results.jsonl plus the images of the lines finished so far, as one zip. */
  archive(): Blob | null;
}

export type BatchStore = ReturnType<typeof createBatchStore>;

/** A batch job: the queue of its lines, run one at a time by the generate store (which shows progress and saves to the gallery). */
export function createBatchStore(deps: { generate: GenerateStore }) {
  let controller: AbortController | null = null;

  return create<BatchState>()((set, get) => {
    const update = (change: (queue: BatchQueue) => BatchQueue) => set((s) => ({ queue: s.queue && change(s.queue) }));

    return {
      queue: null,
      running: false,
      message: null,

      async importFile(file) {
        if (get().running) {
          set({ message: `${file.name} was not imported: a batch is running. Cancel it or wait for it to finish first.` });
          return;
        }
        if (file.size > MAX_BATCH_FILE_BYTES) {
          set({
            message: `${file.name} is ${(file.size / 1024 / 1024).toFixed(1)} MB; batch files may be at most ${MAX_BATCH_FILE_BYTES / 1024 / 1024} MB. Split it into smaller files.`,
          });
          return;
        }
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
        } catch {
          set({ message: `${file.name} is not UTF-8 text. A batch file is JSON Lines: one JSON request per line.` });
          return;
        }
        const queue = queueFromJsonl(file.name, text);
        const message =
          queue.lines.length === 0
            ? `${file.name} has no request that can run${queue.invalid.length ? '; fix the lines listed below and import it again' : ': it is empty'}.`
            : null;
        set({ queue, message });
      },

      async start() {
        const initial = get().queue;
        if (!initial || get().running || nextQueuedIndex(initial) === -1) return;
        if (deps.generate.getState().running) {
          set({ message: 'An image is being generated; start the batch when it is done.' });
          return;
        }
        const defaults = deps.generate.getState().batchDefaults();
        if (!defaults) {
          set({ message: 'Fix the settings marked in the Generate form first: batch lines take the settings they leave out from it.' });
          return;
        }
        controller = new AbortController();
        const { signal } = controller;
        set({ running: true, message: null });
        try {
          for (let i = nextQueuedIndex(initial); i !== -1 && !signal.aborted; i = nextQueuedIndex(get().queue!)) {
            update((q) => markRunning(q, i));
            const { line, request: batchRequest } = get().queue!.lines[i]!;
            const request = generateRequestFromBatch(batchRequest, { ...defaults, seed: defaults.seed ?? randomSeed() });
            request.previewEvery = previewInterval(request.steps);
            try {
              const result = await deps.generate.getState().execute(request, {
                label: `batch line ${line} (${batchRequest.custom_id})`,
                signal,
                customId: batchRequest.custom_id,
              });
              const outcome = batchOutcomeFromResult(batchRequest.custom_id, result);
              update((q) => ('error' in outcome ? markFailed(q, i, outcome.error) : markDone(q, i, outcome)));
            } catch (error) {
              // Cancelled here or from the run panel: either way the whole batch stops.
              if (error instanceof JobError && error.code === 'cancelled') {
                update(cancelQueue);
                break;
              }
              update((q) => markFailed(q, i, explainGenerateFailure(error).reason));
            }
          }
        } finally {
          if (signal.aborted) update(cancelQueue);
          controller = null;
          set({ running: false });
        }
      },

      cancel() {
        controller?.abort();
      },

      clear() {
        if (!get().running) set({ queue: null, message: null });
      },

      archive() {
        const queue = get().queue;
        if (!queue) return null;
        const zip = zipBatchResults(queueOutcomes(queue)) as Uint8Array<ArrayBuffer>; // fflate allocates plain ArrayBuffers
        return new Blob([zip], { type: 'application/zip' });
      },
    };
  });
}
