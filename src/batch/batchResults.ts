import { strToU8, zipSync, type Zippable } from 'fflate';
import type { GenerationBackend } from '../generation/jobTypes';

/**
 * Results of a batch run: `results.jsonl` (one line per request, in request order) and the images,
 * zipped into one archive. A completed line reads
 *
 *   {"custom_id":"dog-beach","images":["images/dog-beach-0.png"],"seeds":[7],"usage":{"unet_evaluations":50,"model_ms":812.5},
 *    "backend":{"ep":"wasm","kind":"cpu"}}
 *
 * where `seeds[i]` produced `images[i]`, `usage` counts UNet evaluations (a guided step over one image counts 2)
 * and model time (wall time of the model runs, on whichever backend), and `backend` says where they ran.
 * A failed request reads `{"custom_id":…,"error":{"message":…}}`.
 */
export interface CompletedRequest {
  customId: string;
  images: { png: Uint8Array; seed: number }[];
  usage: { unetEvaluations: number; modelMs: number };
  backend: RanOn;
}

/** Where a request's model runs executed: onnxruntime's execution provider and what it ran on. */
export interface RanOn {
  ep: GenerationBackend['ep'];
  kind: 'gpu' | 'software-gpu' | 'cpu';
}

export interface FailedRequest {
  customId: string;
  error: string;
}

export type BatchOutcome = CompletedRequest | FailedRequest;

export type BatchResultLine =
  | { custom_id: string; images: string[]; seeds: number[]; usage: { unet_evaluations: number; model_ms: number }; backend: RanOn }
  | { custom_id: string; error: { message: string } };

export const RESULTS_FILE_NAME = 'results.jsonl';

/** The JSONL lines and the image files (by archive path) for a batch's outcomes. */
export function buildBatchResults(outcomes: readonly BatchOutcome[]): { jsonl: string; files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  const usedStems = new Set<string>();
  const lines = outcomes.map((outcome): BatchResultLine => {
    if ('error' in outcome) return { custom_id: outcome.customId, error: { message: outcome.error } };
    const { unetEvaluations, modelMs } = outcome.usage;
    if (!Number.isInteger(unetEvaluations) || unetEvaluations < 0 || !(modelMs >= 0)) {
      throw new RangeError(`usage for ${JSON.stringify(outcome.customId)} must be a whole evaluation count and non-negative milliseconds`);
    }
    const stem = uniqueStem(outcome.customId, usedStems);
    const names = outcome.images.map((image, i) => {
      const name = `images/${stem}-${i}.png`;
      files.set(name, image.png);
      return name;
    });
    return {
      custom_id: outcome.customId,
      images: names,
      seeds: outcome.images.map((image) => image.seed),
      usage: { unet_evaluations: unetEvaluations, model_ms: modelMs },
      backend: { ep: outcome.backend.ep, kind: outcome.backend.kind },
    };
  });
  return { jsonl: lines.map((line) => JSON.stringify(line)).join('\n') + (lines.length ? '\n' : ''), files };
}

/** One zip archive holding `results.jsonl` and `images/…png` (PNGs are stored, not recompressed). */
export function zipBatchResults(outcomes: readonly BatchOutcome[]): Uint8Array {
  const { jsonl, files } = buildBatchResults(outcomes);
  const entries: Zippable = { [RESULTS_FILE_NAME]: strToU8(jsonl) };
  for (const [name, png] of files) entries[name] = [png, { level: 0 }];
  return zipSync(entries);
}

/** A file-name-safe stem for a custom_id, made unique among those already used. */
function uniqueStem(customId: string, used: Set<string>): string {
  const base =
    customId
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 80) || 'request';
  let stem = base;
  for (let n = 2; used.has(stem); n++) stem = `${base}~${n}`;
  used.add(stem);
  return stem;
}
