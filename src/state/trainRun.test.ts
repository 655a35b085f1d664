import { describe, expect, it } from 'vitest';
import { continueRun, newRun, runFromLog, smoothLoss } from './trainRun';

const png = new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' });
const log = {
  subjectId: 's1',
  runId: 'r1',
  step: 3,
  totalSteps: 10,
  loss: [
    { step: 1, loss: 0.5 },
    { step: 2, loss: 0.3 },
    { step: 3, loss: 0.4 },
  ],
  fit: [
    { step: 0, loss: 0.25 },
    { step: 2, loss: 0.24 },
  ],
  validations: [
    { step: 0, images: [{ prompt: 'a photo of zovy cat', seed: 1234, png }] },
    { step: 2, images: [{ prompt: 'a photo of zovy cat', seed: 1234, png }] },
  ],
};

describe('a run restored from its log', () => {
  it('shows the saved curve (smoothed as live) and preview rows, paused at the checkpoint step', () => {
    const urls: Blob[] = [];
    const run = runFromLog(log, 0, (b) => (urls.push(b), `blob:${urls.length}`));
    expect(run).toMatchObject({ subjectId: 's1', status: 'paused', step: 3, totalSteps: 10, lastCheckpointStep: 3 });
    expect(run.loss.steps).toEqual([1, 2, 3]);
    expect(run.loss.raw).toEqual([0.5, 0.3, 0.4]);
    const first = smoothLoss(0, 1, 0.5);
    expect(run.loss.smoothed[0]).toBeCloseTo(first.value, 12);
    expect(run.loss.smoothed[1]).toBeCloseTo(smoothLoss(first.ema, 2, 0.3).value, 12);
    expect(run.validations.map((v) => [v.step, v.images[0]!.url])).toEqual([
      [0, 'blob:1'],
      [2, 'blob:2'],
    ]);
    expect(run.fit).toEqual(log.fit);
    expect(runFromLog({ ...log, step: 10 }, 0, () => 'u').status).toBe('finished');
    // A log saved before fixed-batch losses were measured.
    expect(runFromLog({ ...log, fit: undefined }, 0, () => 'u').fit).toEqual([]);
  });

  it('a resumed run keeps what came before its checkpoint and drops what came after', () => {
    const previous = runFromLog(log, 0, (b) => `blob:${b.size}`);
    const { run, ema, dropped } = continueRun(previous, newRun('s1', 10, true, 5), 2);
    expect(run.loss.steps).toEqual([1, 2]);
    expect(run.loss.smoothed).toEqual(previous.loss.smoothed.slice(0, 2));
    expect(run.validations.map((v) => v.step)).toEqual([0, 2]);
    expect(run.fit.map((f) => f.step)).toEqual([0, 2]);
    expect(continueRun(previous, newRun('s1', 10, true, 5), 1).run.fit.map((f) => f.step)).toEqual([0]);
    expect(dropped).toEqual([]);
    expect(run).toMatchObject({ status: 'starting', resumed: true, step: 2 });
    expect(smoothLoss(ema, 3, 0.4).value).toBeCloseTo(previous.loss.smoothed[2]!, 12);
    expect(continueRun(previous, newRun('s1', 10, true, 5), 1).dropped.map((v) => v.step)).toEqual([2]);
  });
});
