/**
 * The `generatePriors` job: class images for prior preservation ("a photo of <class noun>", image i with seed + i),
 * made with the base model and stored in IndexedDB as each batch finishes. Every image is stored under a key that
 * hashes how it was made (model weights, prompt, seed, sampler settings, size), so a run cut short resumes where
 * it stopped and a second subject of the same class reuses the images instead of making them again.
 */
import type { UseStore } from 'idb-keyval';
import { imageSeed } from '../generation/generateRequest';
import type { GenerationService } from '../generation/generationService';
import type { GenerationBackend } from '../generation/jobTypes';
import { JobError } from '../protocol/jobs';
import type { JobContext } from '../protocol/server';
import { getPriors, hasPriors, priorKey, putPrior, type PriorRecord } from '../storage/dreamboothRecords';
import { classPrompt } from '../subjects/subject';
import { checkClassNoun } from '../subjects/subjectRules';
import { describeSchemaErrors } from '../validation/schemaMessages';
import { validatePriorsRequest } from '../validation/validators.generated.js';
import type { GeneratePriorsRequest, PriorsProgress, PriorsResult } from './jobTypes';

/** Images per `generate` call: one UNet batch, and how much work a cancel or a closed tab can lose. */
export const PRIOR_BATCH = 4;

/**
 * Checks a `generatePriors` payload (structured-cloned from the page, so anything may arrive).
 * @throws JobError 'bad-input' naming the first bad field, e.g. `count must be ≤ 1000`.
 */
export function checkPriorsRequest(payload: unknown): GeneratePriorsRequest {
  if (!validatePriorsRequest(payload)) {
    const [issue] = describeSchemaErrors(validatePriorsRequest.errors);
    const field = issue?.field.replace(/^\//, '') || undefined;
    throw new JobError('bad-input', issue ? issue.message.replace(/^\//, '') : 'the request is invalid', field);
  }
  const r = payload as GeneratePriorsRequest;
  const classProblem = checkClassNoun(r.classNoun);
  if (classProblem) throw new JobError('bad-input', classProblem, 'classNoun');
  return r;
}

export interface ClassPriorsOptions {
  /** Images per generate call (default PRIOR_BATCH). */
  batchSize?: number;
}

/**
 * Makes the class images a request asks for that are not stored yet, storing each batch's PNGs as soon as it is
 * done; reports progress per image (with its PNG for the grid) and an ETA. Cancelling stops between batches (or
 * mid-batch, losing only that batch); what was stored stays, and the next call goes on from there.
 */
export async function generateClassPriors(
  service: Pick<GenerationService, 'describeModel' | 'generate'>,
  store: UseStore,
  payload: unknown,
  ctx: JobContext<PriorsProgress>,
  options: ClassPriorsOptions = {},
): Promise<PriorsResult> {
  const started = performance.now();
  const r = checkPriorsRequest(payload);
  const batchSize = options.batchSize ?? PRIOR_BATCH;
  const model = await service.describeModel(r);
  const prompt = classPrompt(r.classNoun);
  const recipe = (i: number) => ({
    modelKey: model.key,
    prompt,
    seed: imageSeed(r.seed, i),
    sampler: r.sampler,
    steps: r.steps,
    guidanceScale: r.guidanceScale,
    width: model.width,
    height: model.height,
  });
  const keys = await Promise.all(Array.from({ length: r.count }, (_, i) => priorKey(recipe(i))));
  const stored = await hasPriors(store, keys);

  let done = 0;
  let reused = 0;
  let generated = 0;
  let backend: GenerationBackend | null = null;
  const report = (extra: Partial<PriorsProgress> = {}) => ctx.progress({ done, total: r.count, reused, ...(backend ? { backend } : {}), ...extra });

  // What is there already: counted, and shown in the grid.
  const found = keys.filter((_, i) => stored[i]);
  const foundRecords = await getPriors(store, found);
  for (const [j, record] of foundRecords.entries()) {
    done++;
    reused++;
    report({ latest: { key: found[j]!, png: await record!.png.arrayBuffer() } });
  }
  const missing = keys.flatMap((_, i) => (stored[i] ? [] : [i]));
  if (missing.length > 0 && reused === 0) report();

  let generateMs = 0;
  for (const batch of consecutiveRuns(missing, batchSize)) {
    if (ctx.signal.aborted) throw new JobError('cancelled', 'class-image generation was cancelled');
    const first = batch[0]!;
    const remainingAfter = r.count - done - batch.length;
    const t0 = performance.now();
    const result = await service.generate(
      {
        ...(r.modelId ? { modelId: r.modelId } : {}),
        ...(r.backend ? { backend: r.backend } : {}),
        prompt,
        negativePrompt: '',
        sampler: r.sampler,
        steps: r.steps,
        guidanceScale: r.guidanceScale,
        seed: imageSeed(r.seed, first),
        numImages: batch.length,
        width: model.width,
        height: model.height,
        previewEvery: 0,
        maxBatch: batchSize,
      },
      {
        signal: ctx.signal,
        transfer: () => undefined,
        progress(p) {
          if (p.backend) backend = p.backend;
          if (p.stage !== 'denoising' || p.etaMs === undefined) return;
          // The rest of this batch, then the images after it at the pace measured so far (or this batch's).
          const perImage = generated > 0 ? generateMs / generated : p.etaMs / Math.max(1e-3, 1 - p.step / p.totalSteps) / batch.length;
          report({ etaMs: Math.round(p.etaMs + remainingAfter * perImage) });
        },
      },
    );
    generateMs += performance.now() - t0;
    backend = result.backend;
    const records = batch.map((i, j): PriorRecord => {
      const image = result.images[j]!;
      if (image.seed !== imageSeed(r.seed, i)) throw new Error(`image ${i} came back with seed ${image.seed}`);
      return { key: keys[i]!, png: new Blob([image.png], { type: 'image/png' }), createdAt: Date.now(), source: 'generated', ...recipe(i) };
    });
    for (const record of records) await putPrior(store, record);
    generated += batch.length;
    const perImage = generateMs / generated;
    for (const [j, i] of batch.entries()) {
      done++;
      report({ latest: { key: keys[i]!, png: result.images[j]!.png }, etaMs: Math.round((r.count - done) * perImage) });
    }
  }
  return { keys, generated, reused, ms: performance.now() - started, backend };
}

/** Indices split into runs of consecutive values, each at most `size` long (one generate call each: seeds run on). */
export function consecutiveRuns(indices: readonly number[], size: number): number[][] {
  const runs: number[][] = [];
  for (const i of indices) {
    const last = runs.at(-1);
    if (last && last.length < size && last.at(-1)! + 1 === i) last.push(i);
    else runs.push([i]);
  }
  return runs;
}
