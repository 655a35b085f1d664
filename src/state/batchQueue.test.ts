import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { zipBatchResults } from '../batch/batchResults';
import {
  cancelQueue,
  isQueueActive,
  markDone,
  markFailed,
  markRunning,
  nextQueuedIndex,
  queueCounts,
  queueFromJsonl,
  queueOutcomes,
  type BatchQueue,
} from './batchQueue';

const jsonl = [
  '{"custom_id": "one", "prompt": "a cat"}',
  '{"custom_id": "two", "prompt": "a dog", "steps": 0}',
  '',
  '{"custom_id": "three", "prompt": "a mug", "seed": 5}',
  '{"custom_id": "four", "prompt": "a toy"}',
].join('\n');

const png = (tag: number) => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, tag]);
const result = (seed: number, customId = 'one') => ({
  customId,
  images: [{ png: png(seed), seed }],
  usage: { unetEvaluations: 8, modelMs: 20 },
  backend: { ep: 'wasm', kind: 'cpu' } as const,
});

/** Runs the queue's lines in order with `run` deciding each line's fate, as the store's loop does. */
function drain(queue: BatchQueue, run: (id: string) => 'done' | 'fail' | 'stop'): BatchQueue {
  for (let i = nextQueuedIndex(queue); i !== -1; i = nextQueuedIndex(queue)) {
    queue = markRunning(queue, i);
    const fate = run(queue.lines[i]!.request.custom_id);
    if (fate === 'stop') return cancelQueue(queue);
    queue = fate === 'done' ? markDone(queue, i, result(i, queue.lines[i]!.request.custom_id)) : markFailed(queue, i, `boom ${i}`);
  }
  return queue;
}

describe('batch queue', () => {
  it('queues the valid lines with their line numbers and reports the bad one by line and field', () => {
    const queue = queueFromJsonl('jobs.jsonl', jsonl);
    expect(queue.lines.map((l) => [l.line, l.request.custom_id, l.status])).toEqual([
      [1, 'one', 'queued'],
      [4, 'three', 'queued'],
      [5, 'four', 'queued'],
    ]);
    expect(queue.invalid).toEqual([{ line: 2, field: '/steps', message: 'line 2: /steps must be ≥ 1' }]);
    expect(isQueueActive(queue)).toBe(true);
  });

  it('runs lines in file order; a failed line does not stop the others', () => {
    const ran: string[] = [];
    const finished = drain(queueFromJsonl('jobs.jsonl', jsonl), (id) => (ran.push(id), id === 'three' ? 'fail' : 'done'));
    expect(ran).toEqual(['one', 'three', 'four']);
    expect(finished.lines.map((l) => l.status)).toEqual(['done', 'failed', 'done']);
    expect(queueCounts(finished)).toEqual({ queued: 0, running: 0, done: 2, failed: 1, cancelled: 0 });
    expect(isQueueActive(finished)).toBe(false);
    expect(nextQueuedIndex(finished)).toBe(-1);
  });

  it('cancel stops the running line and everything after it, keeping what finished', () => {
    const stopped = drain(queueFromJsonl('jobs.jsonl', jsonl), (id) => (id === 'three' ? 'stop' : 'done'));
    expect(stopped.lines.map((l) => [l.status, l.error])).toEqual([
      ['done', undefined],
      ['cancelled', 'cancelled while running'],
      ['cancelled', 'cancelled before it ran'],
    ]);
    expect(stopped.lines[0]!.result).toEqual(result(0));
    expect(isQueueActive(stopped)).toBe(false);
  });

  it('refuses transitions a line cannot make', () => {
    const queue = queueFromJsonl('jobs.jsonl', jsonl);
    expect(() => markDone(queue, 0, result(0))).toThrow(/line 1 is queued/);
    expect(() => markFailed(queue, 0, 'x')).toThrow(/line 1 is queued/);
    const running = markRunning(queue, 0);
    expect(() => markRunning(running, 0)).toThrow(/line 1 is running/);
    expect(() => markRunning(queue, 9)).toThrow(/no line at index 9/);
    expect(queue.lines[0]!.status).toBe('queued'); // the old value is untouched
  });

  it('exports finished, failed and cancelled lines in file order as results.jsonl and images', () => {
    let calls = 0;
    const queue = drain(queueFromJsonl('jobs.jsonl', jsonl), () => (++calls === 2 ? 'fail' : calls === 3 ? 'stop' : 'done'));
    const archive = unzipSync(zipBatchResults(queueOutcomes(queue)));
    const lines = strFromU8(archive['results.jsonl']!)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { custom_id: 'one', images: ['images/one-0.png'], seeds: [0], usage: { unet_evaluations: 8, model_ms: 20 }, backend: { ep: 'wasm', kind: 'cpu' } },
      { custom_id: 'three', error: { message: 'boom 1' } },
      { custom_id: 'four', error: { message: 'cancelled while running' } },
    ]);
    expect(archive['images/one-0.png']).toEqual(png(0));
  });

  it('has no outcome for lines still waiting', () => {
    const queue = markRunning(queueFromJsonl('jobs.jsonl', jsonl), 0);
    expect(queueOutcomes(queue)).toEqual([]);
  });
});
