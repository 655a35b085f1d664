/**
 * The worker's `train` and `pauseTraining` jobs: a subject's photos and class images (IndexedDB) → VAE latents
 * (cached by image hash + model key) → DreamBooth steps on the worker's backend, with progress per step, validation
 * samples, checkpoints written atomically to IndexedDB every N steps, pause (checkpoint, then stop), cancel (stop;
 * earlier checkpoints stay) and resume from the last checkpoint.
 *
 * The run holds the worker's device lease (GenerationService.holdDevice): generation requests meanwhile are refused
 * with a message naming the run, and the subject's Web Lock, so a second tab cannot train into it at once.
 */
import { get, type UseStore } from 'idb-keyval';
import { buildNoiseSchedule } from '../diffusion/noiseSchedule';
import { STATE } from '../engine/optim/trainStep';
import { DeviceLostError } from '../engine/runtime/gpuErrors';
import type { GenerationModel } from '../generation/generationModel';
import { GenerationPipeline, yieldToEventLoop } from '../generation/generationPipeline';
import type { GenerationService } from '../generation/generationService';
import { resolveGenerateRequest } from '../generation/generateRequest';
import type { InferenceBackend } from '../generation/inferenceBackend';
import type { GenerationBackend } from '../generation/jobTypes';
import { JobError } from '../protocol/jobs';
import type { JobContext } from '../protocol/server';
import { sha256Hex } from '../storage/contentHash';
import {
  getLatents,
  getPriors,
  loadCheckpoint,
  loadRunLog,
  putLatents,
  removeOrphanCheckpointParts,
  saveCheckpoint,
  saveRunLog,
  withSubjectLock,
  type RunLog,
} from '../storage/dreamboothRecords';
import { subjectKey } from '../storage/subjectRecords';
import { classPrompt, instancePrompt, type Subject } from '../subjects/subject';
import { bindIdentifier, type IdentifierBinding } from './identifierBinding';
import type { CheckpointInfo, TrainProgress, TrainRequest, TrainResult, ValidationImage } from './jobTypes';
import { LatentEncoder } from './latentEncoder';
import { DreamBoothTrainer, type TrainingData } from './trainer';
import { coversSide, smallPhotoProblem, subjectCrops, type PhotoCropper, type TrainingPng } from './subjectCrops';
import { mirror, pngToModelInput } from './trainingImages';
import { checkTrainSettings, type TrainSettings } from './trainSettings';
import { describeSchemaErrors } from '../validation/schemaMessages';
import { validateTrainRequest } from '../validation/validators.generated.js';

/** Seed of the validation samples: the same noise at every validation, so the rows compare. */
export const VALIDATION_SEED = 1234;

/** The prompts validation renders: the subject, the subject somewhere new, and the class alone (drift shows there). */
export function validationPrompts(subject: Pick<Subject, 'identifier' | 'classNoun'>): string[] {
  const instance = instancePrompt(subject);
  return [instance, `${instance} on the beach`, classPrompt(subject.classNoun)];
}

export class TrainingService {
  private readonly pauses = new Map<string, () => void>();

  constructor(
    private readonly generation: GenerationService,
    private readonly store: UseStore,
    private readonly cropPhoto: PhotoCropper,
  ) {}

  /** Asks a subject's run to checkpoint and stop after its current step. */
  pause(payload: unknown): { paused: boolean } {
    const subjectId = (payload as { subjectId?: unknown } | null)?.subjectId;
    if (typeof subjectId !== 'string') throw new JobError('bad-input', 'subjectId must be a string', 'subjectId');
    const pause = this.pauses.get(subjectId);
    pause?.();
    return { paused: pause !== undefined };
  }

  async train(payload: unknown, ctx: JobContext<TrainProgress>): Promise<TrainResult> {
    const request = checkTrainRequest(payload);
    const subject = await get<Subject>(subjectKey(request.subjectId), this.store);
    if (!subject) throw new JobError('bad-input', 'this subject no longer exists; pick or create one on the Subject step', 'subjectId');
    return withSubjectLock(subject.id, () =>
      this.generation.holdDevice(`training “${subject.name}”`, async () => {
        let pauseRequested = false;
        this.pauses.set(subject.id, () => (pauseRequested = true));
        try {
          return await this.run(request, subject, ctx, () => pauseRequested);
        } finally {
          this.pauses.delete(subject.id);
        }
      }),
    );
  }

  private async run(r: TrainRequest, subject: Subject, ctx: JobContext<TrainProgress>, pauseRequested: () => boolean): Promise<TrainResult> {
    const s = r.settings;
    const timings = { prepareMs: 0, compileMs: 0, trainMs: 0, validationMs: 0, checkpointMs: 0 };
    const cancelled = () => {
      if (ctx.signal.aborted) throw new JobError('cancelled', 'training was cancelled; the checkpoints saved so far are kept');
    };
    const stage = (stage: Extract<TrainProgress, { kind: 'stage' }>['stage'], message: string, backend?: GenerationBackend) =>
      ctx.progress({ kind: 'stage', stage, message, ...(backend ? { backend } : {}) });

    let t0 = performance.now();
    stage('preparing', 'Reading the photos and class images');
    // A write killed between its two transactions leaves unlisted parts: clear them while this subject is locked.
    await removeOrphanCheckpointParts(this.store);
    const modelId = r.modelId ?? 'builtin';
    const model = await this.generation.model(modelId);
    if (model.trained) {
      throw new JobError('bad-input', `${model.id} is a trained checkpoint, not a base model: train from the model it was trained from`, 'modelId');
    }
    const side = Math.max(model.width, model.height);
    const small = smallPhotoProblem(subject, { id: model.id, side });
    if (small) throw new JobError('bad-input', `${small}, or choose a smaller base model on Class priors`, 'modelId');
    const binding = bindIdentifier(model, subject.identifier);
    if (s.textEncoder === 'identifier' && binding.rows.length === 0) {
      throw new JobError(
        'bad-input',
        'this model has no vocabulary rows for identifiers, so the identifier’s embedding cannot train; set the text encoder to frozen or full',
        'settings/textEncoder',
      );
    }
    const backend = await this.generation.openBackend(r.backend ?? 'auto');
    stage('encoding', 'Encoding the images into latents', backend.report);
    const images = await this.trainingImages(r, subject, { id: model.id, side });
    const data = await this.encode(backend, model, binding, subject, images, s, cancelled);
    timings.prepareMs = performance.now() - t0;

    t0 = performance.now();
    stage('compiling', 'Building the training step', backend.report);
    const latentShape = [model.latentChannels, model.height / model.vaeFactor, model.width / model.vaeFactor] as const;
    const trainer = await DreamBoothTrainer.create({
      folder: model.folder,
      schedule: buildNoiseSchedule(model.schedulerConfig as Parameters<typeof buildNoiseSchedule>[0]),
      settings: s,
      data,
      latentShape,
      identifierRows: binding.rows,
      ep: backend.ep,
      ortFlavor: this.generation.ortFlavor,
      threads: await this.generation.wasmThreads(),
    });
    timings.compileMs = performance.now() - t0;
    // Validation samples read the trainer's parameters where they are: one pipeline for the whole run.
    let validation: GenerationPipeline | undefined;
    try {
      let runId: string = crypto.randomUUID();
      let lastSaved: CheckpointInfo | null = null;
      if (r.resume) {
        const saved = await loadCheckpoint(this.store, subject.id);
        if (saved) {
          try {
            trainer.restore(new Uint8Array(await saved.parts.state!.arrayBuffer()));
            runId = saved.info.runId;
            lastSaved = saved.info;
            stage('training', `Resuming at step ${trainer.step}${saved.note ? ` (${saved.note})` : ''}`, backend.report);
          } catch (e) {
            stage('training', `Starting over: ${e instanceof Error ? e.message : String(e)}`, backend.report);
          }
        }
      }
      // What the Train step shows (loss curve, preview rows), saved with each checkpoint: a resumed run goes on from
      // its log, cut at the restored step; a new run starts a new one.
      const previous = lastSaved ? await loadRunLog(this.store, subject.id) : undefined;
      const log: RunLog =
        previous && previous.runId === runId
          ? {
              ...previous,
              totalSteps: s.steps,
              loss: previous.loss.filter((l) => l.step <= trainer.step),
              fit: (previous.fit ?? []).filter((f) => f.step <= trainer.step),
              validations: previous.validations.filter((v) => v.step <= trainer.step),
            }
          : { subjectId: subject.id, runId, step: trainer.step, totalSteps: s.steps, loss: [], fit: [], validations: [] };
      const report = backend.report;
      const ctxInfo = { subject, modelId, runId, settings: s };
      let smoothed = NaN;
      const fit = async () => {
        const point = { step: trainer.step, loss: await trainer.fixedBatchLoss() };
        log.fit = [...(log.fit ?? []).filter((f) => f.step !== point.step), point];
        ctx.progress({ kind: 'fit', ...point });
      };
      const save = async () => {
        const c0 = performance.now();
        stage('checkpointing', `Saving step ${trainer.step}`, report);
        await fit();
        lastSaved = await this.saveCheckpoint(trainer, ctxInfo, smoothed);
        await saveRunLog(this.store, { ...log, step: trainer.step });
        timings.checkpointMs += performance.now() - c0;
        ctx.progress({ kind: 'checkpoint', checkpoint: lastSaved });
        return lastSaved;
      };
      const validate = async () => {
        const v0 = performance.now();
        stage('sampling', `Validation samples at step ${trainer.step}`, report);
        validation ??= new GenerationPipeline(
          { ...model, id: `validation:${runId}`, key: `validation:${runId}`, tokenizer: binding.tokenizer },
          backend,
          trainer.trainedInputs,
        );
        const images = await validationImages(validation, trainer, subject, s);
        log.validations = [
          ...log.validations.filter((v) => v.step !== trainer.step),
          { step: trainer.step, images: images.map((i) => ({ prompt: i.prompt, seed: i.seed, png: new Blob([i.png], { type: 'image/png' }) })) },
        ];
        timings.validationMs += performance.now() - v0;
        ctx.progress({ kind: 'validation', step: trainer.step, images });
      };

      // The base model's row and fit first, so "base vs now" has its left side.
      if (trainer.step === 0) await fit();
      if (trainer.step === 0 && s.validationEvery > 0) await validate();
      stage('training', `Training on ${backend.report.ep === 'webgpu' ? 'the GPU' : 'the CPU'}`, report);
      const started = { at: performance.now(), step: trainer.step };
      while (trainer.step < s.steps) {
        cancelled();
        if (pauseRequested()) {
          const checkpoint = lastSaved && (lastSaved as CheckpointInfo).step === trainer.step ? (lastSaved as CheckpointInfo) : await save();
          return { status: 'paused', step: trainer.step, totalSteps: s.steps, checkpoint, backend: report, timings };
        }
        const s0 = performance.now();
        const m = await trainer.trainStep().catch((e: unknown) => {
          throw stoppedAt(e, trainer.step, lastSaved as CheckpointInfo | null);
        });
        timings.trainMs += performance.now() - s0;
        smoothed = Number.isNaN(smoothed) ? m.loss : 0.95 * smoothed + 0.05 * m.loss;
        log.loss.push({ step: m.step, loss: m.loss });
        const msPerStep = (performance.now() - started.at) / (m.step - started.step);
        ctx.progress({ kind: 'step', totalSteps: s.steps, msPerStep, etaMs: msPerStep * (s.steps - m.step), ...m });
        const last = m.step === s.steps;
        // Previews first, so the checkpoint's run log holds them.
        if (s.validationEvery > 0 && (m.step % s.validationEvery === 0 || last)) await validate();
        if (m.step % s.checkpointEvery === 0 || last) await save();
        // Let a pause or cancel message in between steps.
        await yieldToEventLoop();
      }
      const checkpoint = lastSaved ?? (await save());
      return { status: 'finished', step: trainer.step, totalSteps: s.steps, checkpoint, backend: report, timings };
    } finally {
      // The validation pipeline borrows the trainer's parameters: it goes first, and the trainer goes whatever happens.
      try {
        await validation?.dispose();
      } finally {
        await trainer.dispose();
      }
    }
  }

  /** The subject's photos at the model's size and the class images, as PNG bytes with their identity. */
  private async trainingImages(
    r: TrainRequest,
    subject: Subject,
    model: { id: string; side: number },
  ): Promise<{ photos: TrainingPng[]; priors: TrainingPng[] }> {
    if (subject.photos.length === 0) throw new JobError('bad-input', 'this subject has no photos; add 3–5 on the Subject step', 'subjectId');
    const withPriors = r.settings.priorLossWeight > 0;
    const records = withPriors ? await getPriors(this.store, r.priorKeys) : [];
    const missing = records.findIndex((p) => !p);
    if (missing >= 0) throw new JobError('bad-input', `class image ${missing + 1} is missing from storage; generate the class images again`, 'priorKeys');
    if (withPriors && records.length === 0)
      throw new JobError(
        'bad-input',
        'prior preservation needs class images: generate them on the Class priors step, or set the prior loss weight to 0',
        'priorKeys',
      );
    const small = records.filter((p) => !coversSide(p!, model.side));
    if (small.length > 0) {
      throw new JobError(
        'bad-input',
        `${small.length} class image${small.length === 1 ? ' is' : 's are'} smaller than the ${model.side}×${model.side} images ${model.id} makes (${small[0]!.width}×${small[0]!.height}): make class images with this base model on Class priors, or drop the small ones`,
        'priorKeys',
      );
    }
    const priors = records.map((p) => ({ id: p!.key, png: async () => new Uint8Array(await p!.png.arrayBuffer()), what: `class image ${p!.seed}` }));
    return { photos: subjectCrops(this.store, subject, model, this.cropPhoto), priors };
  }

  private async encode(
    backend: InferenceBackend,
    model: GenerationModel,
    binding: IdentifierBinding,
    subject: Subject,
    images: { photos: TrainingPng[]; priors: TrainingPng[] },
    s: TrainSettings,
    cancelled: () => void,
  ): Promise<TrainingData> {
    const size = model.width;
    let encoder: LatentEncoder | undefined;
    const latent = async (img: TrainingPng, flip: boolean) => {
      const id = flip ? `${img.id}:mirror` : img.id;
      const cached = await getLatents(this.store, id, model.key);
      if (cached) return cached;
      cancelled();
      encoder ??= await LatentEncoder.create(backend, model.folder, size);
      const pixels = pngToModelInput(await img.png(), size, img.what);
      const z = await encoder.encode(flip ? mirror(pixels, 3, size, size) : pixels);
      await putLatents(this.store, id, model.key, z);
      return z;
    };
    try {
      const instances: Float32Array[] = [];
      for (const p of images.photos) {
        instances.push(await latent(p, false));
        if (s.flip) instances.push(await latent(p, true));
      }
      const priors: Float32Array[] = [];
      for (const p of images.priors) priors.push(await latent(p, false));
      const prompts = [instancePrompt(subject), classPrompt(subject.classNoun)];
      const [instanceText, classText] =
        s.textEncoder === 'frozen'
          ? await embed(backend, model, binding, prompts)
          : prompts.map((p) => BigInt64Array.from(binding.tokenizer.tokenize(p), BigInt));
      const dataHash = await sha256Hex(
        new TextEncoder().encode(
          JSON.stringify({ model: model.key, prompts, flip: s.flip, photos: images.photos.map((p) => p.id), priors: images.priors.map((p) => p.id) }),
        ),
      );
      return { instances, priors, instanceText: instanceText!, classText: classText!, dataHash };
    } finally {
      await encoder?.release();
    }
  }

  private async saveCheckpoint(
    trainer: DreamBoothTrainer,
    c: { subject: Subject; modelId: string; runId: string; settings: TrainSettings },
    loss: number,
  ): Promise<CheckpointInfo> {
    const { file, weightBytes } = await trainer.checkpoint();
    const info: CheckpointInfo = {
      id: `${c.runId}-${String(trainer.step).padStart(6, '0')}`,
      subjectId: c.subject.id,
      runId: c.runId,
      step: trainer.step,
      totalSteps: c.settings.steps,
      bytes: file.byteLength,
      weightBytes,
      createdAt: Date.now(),
      loss,
      settings: c.settings,
      identifier: c.subject.identifier,
      classNoun: c.subject.classNoun,
      baseModelId: c.modelId,
    };
    await saveCheckpoint(this.store, { info, parts: { state: new Blob([file as Uint8Array<ArrayBuffer>]) } }, c.settings.keepCheckpoints);
    return info;
  }
}

/**
 * One image per validation prompt from the trainer's parameters as they are now (read in place by `pipeline`, built
 * with the trainer's TrainedInputs), with the same seed every time.
 */
async function validationImages(pipeline: GenerationPipeline, trainer: DreamBoothTrainer, subject: Subject, s: TrainSettings): Promise<ValidationImage[]> {
  await pipeline.setTrainedValues(trainer.runtime.stateTensor(STATE.params));
  const out: ValidationImage[] = [];
  for (const prompt of validationPrompts(subject)) {
    const request = resolveGenerateRequest(
      {
        modelId: pipeline.model.id,
        prompt,
        sampler: s.sampler,
        steps: s.samplingSteps,
        guidanceScale: s.guidanceScale,
        seed: VALIDATION_SEED,
        numImages: 1,
        previewEvery: 0,
      },
      pipeline.model,
    );
    const result = await pipeline.generate(request);
    out.push({ prompt, seed: VALIDATION_SEED, png: result.images[0]!.png });
  }
  return out;
}

/** The frozen text encoder's outputs for the prompts, tokenized with the identifier bound (the generation pipeline's own text path). */
async function embed(backend: InferenceBackend, model: GenerationModel, binding: IdentifierBinding, prompts: readonly string[]): Promise<Float32Array[]> {
  const pipeline = new GenerationPipeline({ ...model, tokenizer: binding.tokenizer }, backend);
  try {
    const out: Float32Array[] = [];
    for (const prompt of prompts) out.push(await pipeline.textEmbedding(prompt));
    return out;
  } finally {
    await pipeline.dispose();
  }
}

/**
 * A failed step (a lost GPU device, a GPU error, a loss that blew up) as the person needs it: what happened, where the
 * run stopped, and that Resume continues from the last checkpoint.
 */
export function stoppedAt(error: unknown, step: number, saved: CheckpointInfo | null): JobError {
  const what = error instanceof Error ? error.message : String(error);
  const resume = saved
    ? `the checkpoint of step ${saved.step} is saved: Resume continues from it`
    : 'no checkpoint was saved yet: Start runs again from the beginning';
  const code = error instanceof DeviceLostError ? 'device-lost' : 'failed';
  return new JobError(code, `Training stopped after step ${step}: ${what.replace(/\.$/, '')}. Nothing is lost beyond the last checkpoint; ${resume}.`);
}

/**
 * Checks a `train` payload (structured-cloned from the page, so anything may arrive).
 * @throws JobError 'bad-input' naming the first bad field, e.g. `/priorKeys must be an array`.
 */
function checkTrainRequest(payload: unknown): TrainRequest {
  if (!validateTrainRequest(payload)) {
    const [issue] = describeSchemaErrors(validateTrainRequest.errors);
    throw new JobError('bad-input', issue?.message ?? 'the training request is invalid', issue?.field.replace(/^\//, '') || undefined);
  }
  checkTrainSettings((payload as { settings: unknown }).settings, '/settings');
  return payload as unknown as TrainRequest;
}
