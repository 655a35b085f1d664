import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { buildBatchResults, RESULTS_FILE_NAME, zipBatchResults, type BatchOutcome, type BatchResultLine } from './batchResults';

const png = (tag: number) => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, tag, tag, tag]);
const gpu = { ep: 'webgpu', kind: 'gpu' } as const;
const cpu = { ep: 'wasm', kind: 'cpu' } as const;
const outcomes: BatchOutcome[] = [
  {
    customId: 'dog-beach',
    images: [
      { png: png(1), seed: 7 },
      { png: png(2), seed: 8 },
    ],
    usage: { unetEvaluations: 100, modelMs: 812.5 },
    backend: gpu,
  },
  { customId: 'broken', error: 'steps exceed the schedule' },
  { customId: 'a/b c', images: [{ png: png(3), seed: 1 }], usage: { unetEvaluations: 50, modelMs: 0 }, backend: cpu },
  { customId: 'a_b_c', images: [{ png: png(4), seed: 2 }], usage: { unetEvaluations: 50, modelMs: 3 }, backend: cpu },
];

describe('buildBatchResults', () => {
  it('writes one JSON line per request, in order, naming each image and its seed', () => {
    const { jsonl, files } = buildBatchResults(outcomes);
    const lines = jsonl
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as BatchResultLine);
    expect(lines).toEqual([
      {
        custom_id: 'dog-beach',
        images: ['images/dog-beach-0.png', 'images/dog-beach-1.png'],
        seeds: [7, 8],
        usage: { unet_evaluations: 100, model_ms: 812.5 },
        backend: gpu,
      },
      { custom_id: 'broken', error: { message: 'steps exceed the schedule' } },
      { custom_id: 'a/b c', images: ['images/a_b_c-0.png'], seeds: [1], usage: { unet_evaluations: 50, model_ms: 0 }, backend: cpu },
      // Its safe name collides with the previous one, so it gets a suffix.
      { custom_id: 'a_b_c', images: ['images/a_b_c~2-0.png'], seeds: [2], usage: { unet_evaluations: 50, model_ms: 3 }, backend: cpu },
    ]);
    expect(files.get('images/dog-beach-1.png')).toEqual(png(2));
    expect(files.size).toBe(4);
  });

  it('rejects impossible usage numbers', () => {
    expect(() => buildBatchResults([{ customId: 'x', images: [], usage: { unetEvaluations: 1.5, modelMs: 1 }, backend: cpu }])).toThrow(/usage/);
    expect(() => buildBatchResults([{ customId: 'x', images: [], usage: { unetEvaluations: 1, modelMs: -1 }, backend: cpu }])).toThrow(/usage/);
  });
});

describe('zipBatchResults', () => {
  it('zips results.jsonl and every image; unzipping gives the same bytes', () => {
    const archive = unzipSync(zipBatchResults(outcomes));
    const { jsonl, files } = buildBatchResults(outcomes);
    expect(Object.keys(archive).sort()).toEqual([RESULTS_FILE_NAME, ...files.keys()].sort());
    expect(strFromU8(archive[RESULTS_FILE_NAME])).toBe(jsonl);
    for (const [name, bytes] of files) expect(archive[name]).toEqual(bytes);
  });
});
