import { parseBatchJsonl, type BatchLineError, type BatchRequest } from '../batch/batchRequests';
import type { BatchOutcome, CompletedRequest } from '../batch/batchResults';

/**
 * A batch job as a queue of its valid lines, each moving queued → running → done | failed, or to
 * cancelled when the queue is cancelled. Pure functions over immutable values, so the store only
 * swaps one value for the next and every transition is testable on its own.
 */
export type QueueLineStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface QueueLine {
  /** 1-based line number in the file. */
  line: number;
  request: BatchRequest;
  status: QueueLineStatus;
  /** Set when done: its images (PNG bytes with their seeds) and usage, as they go into the archive. */
  result?: CompletedRequest;
  /** Why it failed or was cancelled. */
  error?: string;
}

export interface BatchQueue {
  fileName: string;
  lines: QueueLine[];
  /** Lines that could not be read, by line number and field; they never run. */
  invalid: BatchLineError[];
}

/** Reads a JSONL batch file into a queue: every valid line queued, every invalid one reported. */
export function queueFromJsonl(fileName: string, text: string): BatchQueue {
  const { entries, errors } = parseBatchJsonl(text);
  return {
    fileName,
    lines: entries.map(({ line, request }) => ({ line, request, status: 'queued' })),
    invalid: errors,
  };
}

/** Index of the next line to run, or -1 when none is waiting. */
export function nextQueuedIndex(queue: BatchQueue): number {
  return queue.lines.findIndex((line) => line.status === 'queued');
}

/** True while a line runs or waits. */
export function isQueueActive(queue: BatchQueue): boolean {
  return queue.lines.some((line) => line.status === 'queued' || line.status === 'running');
}

export function markRunning(queue: BatchQueue, index: number): BatchQueue {
  return transition(queue, index, 'queued', { status: 'running' });
}

export function markDone(queue: BatchQueue, index: number, result: CompletedRequest): BatchQueue {
  return transition(queue, index, 'running', { status: 'done', result });
}

export function markFailed(queue: BatchQueue, index: number, error: string): BatchQueue {
  return transition(queue, index, 'running', { status: 'failed', error });
}

/** Stops the queue: the running line and every waiting one become cancelled; finished lines keep their results. */
export function cancelQueue(queue: BatchQueue): BatchQueue {
  return {
    ...queue,
    lines: queue.lines.map((line) =>
      line.status === 'queued' || line.status === 'running'
        ? { ...line, status: 'cancelled', error: line.status === 'running' ? 'cancelled while running' : 'cancelled before it ran' }
        : line,
    ),
  };
}

/** How many lines are in each state. */
export function queueCounts(queue: BatchQueue): Record<QueueLineStatus, number> {
  const counts: Record<QueueLineStatus, number> = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
  for (const line of queue.lines) counts[line.status]++;
  return counts;
}

/**
 * What goes into the results archive, in file order: finished lines with their images, failed and
 * cancelled lines with the reason. Lines still waiting or running have no outcome yet.
 */
export function queueOutcomes(queue: BatchQueue): BatchOutcome[] {
  return queue.lines.flatMap((line): BatchOutcome[] => {
    if (line.status === 'done' && line.result) return [line.result];
    if (line.status === 'failed' || line.status === 'cancelled') return [{ customId: line.request.custom_id, error: line.error ?? line.status }];
    return [];
  });
}

function transition(queue: BatchQueue, index: number, from: QueueLineStatus, change: Partial<QueueLine>): BatchQueue {
  const line = queue.lines[index];
  if (!line) throw new RangeError(`the queue has no line at index ${index}`);
  if (line.status !== from) {
    throw new Error(`line ${line.line} is ${line.status}; only a ${from} line can become ${String(change.status)}`);
  }
  const lines = queue.lines.slice();
  lines[index] = { ...line, ...change };
  return { ...queue, lines };
}
