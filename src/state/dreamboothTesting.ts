/**
 * Test double for the studio worker's DreamBooth jobs: a stand-in for the trainer and the class-prior generator that
 * speaks the real job protocol over a real MessageChannel, writes checkpoints and priors to IndexedDB as the worker
 * does, honours cancel and pause — so what the store tests check is the stores' own logic.
 */
import type { UseStore } from 'idb-keyval';
import type { CheckpointInfo, GeneratePriorsRequest, TrainRequest } from '../dreambooth/jobTypes';
import type { GenerationBackend } from '../generation/jobTypes';
import { JobClient } from '../protocol/client';
import { JobError, type Endpoint } from '../protocol/jobs';
import { serveJobs } from '../protocol/server';
import type { PreparedImage, StudioJobs } from '../protocol/studioJobs';
import { getPriors, listCheckpoints, priorKey, putPrior, saveCheckpoint } from '../storage/dreamboothRecords';

export const testBackend: GenerationBackend = { ep: 'wasm', kind: 'cpu', threads: 1, requested: 'auto', why: 'no GPU here' };

/** A base model id the fake worker treats as making 128-px images. */
export const LARGE_MODEL_ID = 'imported:large';
export const pngBytes = (n: number) => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, n & 0xff, (n >> 8) & 0xff]).buffer;

export interface FakeWorker {
  client: JobClient<StudioJobs>;
  trainRequests: TrainRequest[];
  priorRequests: GeneratePriorsRequest[];
  /** Resolves once the trainer has reported `step` (of any run). */
  reachedStep(step: number): Promise<void>;
  /** Resolves once the prior generator has reported `done` images. */
  reachedPrior(done: number): Promise<void>;
  /** The next train job fails with this error after its first step. */
  failNextTrain(error: JobError | null): void;
  /** Whether a running job saw its cancel. */
  cancelled: string[];
  close(): void;
}

export function fakeDreamboothWorker(store: UseStore, options: { stepMs?: number } = {}): FakeWorker {
  const stepMs = options.stepMs ?? 2;
  const trainRequests: TrainRequest[] = [];
  const priorRequests: GeneratePriorsRequest[] = [];
  const cancelled: string[] = [];
  const stepWaiters: { step: number; resolve(): void }[] = [];
  const priorWaiters: { done: number; resolve(): void }[] = [];
  const pauseAsked = new Set<string>();
  let failure: JobError | null = null;
  const tick = () => new Promise((r) => setTimeout(r, stepMs));

  const fail = () => {
    throw new Error('not used in this test');
  };
  const { port1, port2 } = new MessageChannel();
  serveJobs<StudioJobs>(port2 as unknown as Endpoint, {
    probeBackend: fail,
    loadModel: fail,
    generate: fail,
    measurePrompt: fail,
    unloadModels: fail,
    exportCheckpoint: fail,
    importModel: fail,
    // A base model of that id makes 128-px images; every other one the request's resolution.
    prepareImage: async ({ bytes, resolution, forModel }): Promise<PreparedImage> => {
      const first = new Uint8Array(bytes)[0] ?? 0;
      if (first === 0) throw new JobError('bad-input', 'is empty (0 bytes)');
      const sha256 = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
      return {
        sha256,
        mime: 'image/png',
        width: resolution,
        height: resolution,
        crop: pngBytes(first),
        cropSide: forModel === LARGE_MODEL_ID ? Math.max(resolution, 128) : resolution,
        thumbnail: pngBytes(first + 1),
        transparent: false,
        animated: false,
      };
    },
    async generatePriors(request, { progress, signal }) {
      priorRequests.push(request);
      const keys: string[] = [];
      let reused = 0;
      const started = Date.now();
      for (let i = 0; i < request.count; i++) {
        await tick();
        if (signal.aborted) {
          cancelled.push('generatePriors');
          throw new JobError('cancelled', 'cancelled');
        }
        const recipe = {
          modelKey: request.modelId ?? 'builtin',
          prompt: `a photo of ${request.classNoun}`,
          seed: request.seed + i,
          sampler: request.sampler,
          steps: request.steps,
          guidanceScale: request.guidanceScale,
          width: 64,
          height: 64,
        };
        const key = await priorKey(recipe);
        if ((await getPriors(store, [key]))[0]) reused++;
        else await putPrior(store, { ...recipe, key, png: new Blob([pngBytes(i)], { type: 'image/png' }), createdAt: Date.now(), source: 'generated' });
        keys.push(key);
        progress({
          done: i + 1,
          total: request.count,
          reused,
          latest: { key, png: pngBytes(i) },
          etaMs: stepMs * (request.count - i - 1),
          backend: testBackend,
        });
        for (const w of priorWaiters.filter((w) => w.done === i + 1)) w.resolve();
      }
      return { keys, generated: request.count - reused, reused, ms: Date.now() - started, backend: testBackend };
    },
    async train(request, { progress, signal }) {
      trainRequests.push(request);
      const { settings, subjectId } = request;
      const listed = await listCheckpoints(store, subjectId);
      const latest = listed.at(-1);
      const from = request.resume && latest ? latest.step : 0;
      const runId = request.resume && latest ? latest.runId : `run-${trainRequests.length}`;
      progress({ kind: 'stage', stage: 'preparing', message: 'Encoding the photos', backend: testBackend });
      let checkpoint: CheckpointInfo | undefined;
      const save = async (step: number) => {
        checkpoint = {
          id: `${runId}-${step}`,
          subjectId,
          runId,
          step,
          totalSteps: settings.steps,
          bytes: 1000 * step,
          weightBytes: 400 * step,
          createdAt: Date.now(),
          loss: 0.1,
          settings,
          identifier: 'zoqu',
          classNoun: 'cat',
          baseModelId: 'builtin',
        };
        await saveCheckpoint(store, { info: checkpoint, parts: { state: new Blob([new Uint8Array(8)]) } }, settings.keepCheckpoints);
        progress({ kind: 'checkpoint', checkpoint });
        return checkpoint;
      };
      for (let step = from + 1; step <= settings.steps; step++) {
        await tick();
        if (signal.aborted) {
          cancelled.push('train');
          throw new JobError('cancelled', 'cancelled');
        }
        if (failure) {
          const error = failure;
          failure = null;
          throw error;
        }
        const loss = 1 / step;
        progress({
          kind: 'step',
          step,
          totalSteps: settings.steps,
          loss,
          instanceLoss: loss / 2,
          priorLoss: loss / 2,
          learningRate: settings.learningRate,
          gradNorm: 1,
          msPerStep: 250,
          etaMs: 250 * (settings.steps - step),
        });
        for (const w of stepWaiters.filter((w) => w.step === step)) w.resolve();
        if (settings.validationEvery > 0 && step % settings.validationEvery === 0) {
          progress({
            kind: 'validation',
            step,
            images: [
              { prompt: 'a photo of zoqu cat', seed: 1, png: pngBytes(step) },
              { prompt: 'a photo of cat', seed: 1, png: pngBytes(step + 1) },
            ],
          });
        }
        if (pauseAsked.delete(subjectId)) {
          const saved = await save(step);
          return {
            status: 'paused',
            step,
            totalSteps: settings.steps,
            checkpoint: saved,
            backend: testBackend,
            timings: { prepareMs: 1, compileMs: 1, trainMs: 1, validationMs: 0, checkpointMs: 1 },
          };
        }
        if (step % settings.checkpointEvery === 0 && step < settings.steps) await save(step);
      }
      const saved = await save(settings.steps);
      return {
        status: 'finished',
        step: settings.steps,
        totalSteps: settings.steps,
        checkpoint: checkpoint ?? saved,
        backend: testBackend,
        timings: { prepareMs: 1, compileMs: 1, trainMs: 1, validationMs: 0, checkpointMs: 1 },
      };
    },
    pauseTraining({ subjectId }) {
      const running = trainRequests.some((r) => r.subjectId === subjectId);
      if (running) pauseAsked.add(subjectId);
      return { paused: running };
    },
  });
  const client = new JobClient<StudioJobs>(port1 as unknown as Endpoint);
  port1.start();
  port2.start();
  return {
    client,
    trainRequests,
    priorRequests,
    cancelled,
    reachedStep: (step) => new Promise((resolve) => stepWaiters.push({ step, resolve })),
    reachedPrior: (done) => new Promise((resolve) => priorWaiters.push({ done, resolve })),
    failNextTrain: (error) => void (failure = error),
    close: () => (port1.close(), port2.close()),
  };
}
