/**
 * `npm run dreambooth`: the studio's DreamBooth flow without the page — the worker's own services
 * (GenerationService, generateClassPriors, TrainingService) over an in-process IndexedDB (fake-indexeddb, loaded by
 * the script), with the durable state mirrored to --out (runFolder.ts) so the same command resumes a stopped run
 * and does not redo a finished one. Node only.
 *
 *   photos (studio rules) → class images (base model) → training (checkpoints mirrored as saved) → sample grid
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStore, set, type UseStore } from 'idb-keyval';
import { generateClassPriors } from '../dreambooth/classPriors';
import { checkpointModels } from '../dreambooth/checkpointModels';
import { checkpointModelId, type PriorsProgress, type PriorsResult, type TrainProgress, type TrainResult } from '../dreambooth/jobTypes';
import { TrainingService } from '../dreambooth/trainingJob';
import type { TrainSettings } from '../dreambooth/trainSettings';
import { gridPng, pngToRgb } from '../export/imageGrid';
import { BUILTIN_MODEL_ID, type GenerationModel } from '../generation/generationModel';
import type { GenerationService } from '../generation/generationService';
import { checkpointExport } from '../interop/checkpointExport';
import { modelFolderExtras } from '../interop/modelFolderExtras';
import type { JobContext } from '../protocol/server';
import { JobError } from '../protocol/jobs';
import { RECONTEXT_SEED, recontextPrompts } from '../subjects/recontextPrompts';
import { blobKey, subjectKey } from '../storage/subjectRecords';
import { instancePrompt, type Subject } from '../subjects/subject';
import { CliError } from './cliError';
import { folderModelId, folderModels } from './folderModels';
import { generationService, requestBackend, type CliBackend } from './generationService';
import { cropPhoto } from './photoPixels';
import { progressBar } from './progressBar';
import { RunFolder, type RunInfo } from './runFolder';
import { cropFileName, readSubjectPhotos, type PreparedPhoto } from './subjectPhotos';

export interface DreamBoothCliOptions {
  /** The diffusers model folder to personalize; undefined: the built-in model. */
  model?: string;
  photos: string;
  classNoun: string;
  identifier: string;
  settings: TrainSettings;
  out: string;
  backend: CliBackend;
  threads: number;
  quiet: boolean;
}

export interface DreamBoothCliResult {
  status: 'finished' | 'already-finished';
  step: number;
  /** The step the run started at this time (0, or the checkpoint it resumed from). */
  startedAt: number;
  checkpoint: string;
  samples: string;
  /** Class images made this time, and found made (in --out, or by an earlier run of the same class and settings). */
  classImages?: { generated: number; reused: number };
  timings?: TrainResult['timings'];
  /** What trained: execution provider, threads or adapter. */
  backend?: TrainResult['backend'];
}

/** The subject's id in the run's store (one subject per --out folder). */
const SUBJECT_ID = 'cli';
/** Class images start at this seed, as the Class priors step's default: the same class's images are shared between runs. */
const PRIORS_SEED = 0;

export async function runDreamBooth(o: DreamBoothCliOptions, interrupt: AbortSignal): Promise<DreamBoothCliResult> {
  const store = createStore(`dreambooth-cli-${process.pid}`, 'records');
  const checkpoints = checkpointModels(store);
  const generation = await generationService(o.backend, o.threads, (id, base) => checkpoints(id, base) ?? folderModels(id, base));
  const training = new TrainingService(generation, store, cropPhoto);
  const modelId = o.model ? folderModelId(o.model) : BUILTIN_MODEL_ID;
  try {
    const model = await generation.describeModel({ modelId }).catch((error: unknown) => {
      throw error instanceof JobError && error.code === 'bad-input' ? new CliError(`--model: ${error.message}`, 2) : error;
    });
    // Every photo is judged before anything is written.
    const photos = await readSubjectPhotos(o.photos, model.width);
    const folder = new RunFolder(o.out);
    const info: RunInfo = {
      model: modelId,
      subject: { classNoun: o.classNoun, identifier: o.identifier, photos: photos.map((p) => ({ fileName: p.fileName, sha256: p.sha256 })) },
      settings: o.settings,
      status: 'class-images',
      step: 0,
      checkpoint: null,
    };
    const previous = folder.readInfo();
    const samples = folder.path('samples.png');
    if (
      previous?.status === 'finished' &&
      sameRun(previous, info) &&
      previous.checkpoint &&
      existsSync(folder.checkpointFile(previous.checkpoint.id)) &&
      existsSync(samples) &&
      exported(folder)
    ) {
      say(o, `${o.out} holds this run, finished at step ${previous.step}: nothing to do.`);
      return { status: 'already-finished', step: previous.step, startedAt: previous.step, checkpoint: folder.checkpointFile(previous.checkpoint.id), samples };
    }

    mkdirSync(o.out, { recursive: true });
    folder.removeTempFiles();
    for (const p of photos) folder.writeFile(`photos/${cropFileName(p)}`, p.crop);
    folder.writeInfo(info);
    await putSubject(store, o, photos, model.width);

    const priors = await classImages(o, modelId, store, generation, folder, interrupt);
    info.status = 'training';
    folder.writeInfo(info);
    await folder.restoreCheckpoints(store, o.settings.keepCheckpoints);
    const { result: trained, startedAt } = await train(o, modelId, training, store, folder, info, priors.keys, interrupt);
    if (trained.status === 'paused') {
      info.status = 'paused';
      folder.writeInfo(info);
      throw new CliError(
        `Stopped at step ${trained.step} of ${trained.totalSteps}; the checkpoint is saved in ${o.out}. Run the same command again to resume.`,
        130,
      );
    }
    info.status = 'finished';
    folder.writeInfo(info);

    folder.writeFile('samples.png', await sampleGrid(generation, checkpointModelId(SUBJECT_ID, trained.checkpoint.id), o));
    await exportTrained(folder, new Uint8Array(readFileSync(folder.checkpointFile(trained.checkpoint.id))), await generation.model(modelId), o);
    return {
      status: 'finished',
      step: trained.step,
      startedAt,
      checkpoint: folder.checkpointFile(trained.checkpoint.id),
      samples,
      classImages: { generated: priors.generated, reused: priors.reused },
      timings: trained.timings,
      backend: trained.backend,
    };
  } finally {
    await generation.unloadModels().catch(() => undefined);
  }
}

/** What the trained weights are exported as (src/interop): a LoRA run's files, or a full fine-tune's diffusers folder. */
const EXPORTS = { peft: 'lora.safetensors', kohya: 'lora_kohya.safetensors', folder: 'model' } as const;

const exported = (folder: RunFolder) => existsSync(folder.path(EXPORTS.peft)) || existsSync(folder.path(EXPORTS.folder, 'model_index.json'));

/**
 * Writes the trained weights for other tools: a LoRA run as lora.safetensors (peft/diffusers naming) and
 * lora_kohya.safetensors (AUTOMATIC1111, ComfyUI), plus <identifier>.safetensors when the identifier's embedding
 * trained; a full fine-tune as the diffusers folder model/.
 */
async function exportTrained(folder: RunFolder, checkpoint: Uint8Array, base: GenerationModel, o: DreamBoothCliOptions): Promise<void> {
  const info = { identifier: o.identifier, classNoun: o.classNoun };
  // peft last: lora.safetensors is what `exported` looks for.
  for (const naming of ['kohya', 'peft'] as const) {
    const out = await checkpointExport(checkpoint, base.folder, info, naming, modelFolderExtras(base, info.identifier));
    if (out.kind === 'diffusers-folder') {
      // model_index.json last: it says the folder is complete.
      const files = [...out.files].sort(([a], [b]) => Number(a === 'model_index.json') - Number(b === 'model_index.json'));
      for (const [path, bytes] of files) folder.writeFile(join(EXPORTS.folder, path), bytes);
      return;
    }
    for (const [name, bytes] of out.files) folder.writeFile(name === `${o.identifier}.safetensors` ? name : EXPORTS[naming], bytes);
  }
}

function sameRun(a: RunInfo, b: RunInfo): boolean {
  // Run folders written before --model existed trained the built-in model.
  const model = (r: RunInfo) => r.model ?? BUILTIN_MODEL_ID;
  return JSON.stringify([model(a), a.subject, a.settings]) === JSON.stringify([model(b), b.subject, b.settings]);
}

const say = (o: Pick<DreamBoothCliOptions, 'quiet'>, line: string) => {
  if (!o.quiet) console.error(line);
};

async function putSubject(store: UseStore, o: DreamBoothCliOptions, photos: readonly PreparedPhoto[], resolution: number): Promise<void> {
  const subject: Subject = {
    id: SUBJECT_ID,
    name: `${o.identifier} ${o.classNoun}`,
    classNoun: o.classNoun,
    identifier: o.identifier,
    createdAt: Date.now(),
    photos: photos.map((p) => ({
      sha256: p.sha256,
      fileName: p.fileName,
      mime: 'image/png',
      width: p.width,
      height: p.height,
      cropSha256: p.cropSha256,
      cropResolution: resolution,
      thumbnailSha256: p.cropSha256,
      ...(p.transparent ? { transparent: true } : {}),
      ...(p.animated ? { animated: true } : {}),
    })),
  };
  await set(subjectKey(SUBJECT_ID), subject, store);
  for (const p of photos) await set(blobKey(p.cropSha256), new Blob([p.crop], { type: 'image/png' }), store);
}

/** The class images (none without prior preservation): those in --out are put back, the rest made and mirrored as each is stored. */
async function classImages(
  o: DreamBoothCliOptions,
  modelId: string,
  store: UseStore,
  generation: GenerationService,
  folder: RunFolder,
  interrupt: AbortSignal,
): Promise<Pick<PriorsResult, 'keys' | 'generated' | 'reused'>> {
  const s = o.settings;
  if (s.priorLossWeight === 0) return { keys: [], generated: 0, reused: 0 };
  await folder.restorePriors(store);
  const bar = progressBar('class images {value}/{total} {bar} {percentage}% | ETA {eta_formatted}');
  if (!o.quiet) bar.start(s.classImages, 0);
  let mirrored = Promise.resolve();
  const made: string[] = [];
  const ctx: JobContext<PriorsProgress> = {
    signal: interrupt,
    transfer: () => undefined,
    progress: (p) => {
      if (p.latest) made.push(p.latest.key);
      // One chain of writes, in order; its failure (a full disk) surfaces when the chain is awaited.
      const keys = [...made];
      mirrored = mirrored.then(() => folder.mirrorPriors(store, keys));
      if (!o.quiet) bar.update(p.done);
    },
  };
  try {
    const result = await generateClassPriors(
      generation,
      store,
      {
        modelId,
        classNoun: o.classNoun,
        count: s.classImages,
        seed: PRIORS_SEED,
        sampler: s.sampler,
        steps: s.samplingSteps,
        guidanceScale: s.guidanceScale,
        backend: requestBackend(o.backend),
      },
      ctx,
    );
    await mirrored;
    return result;
  } catch (error) {
    await mirrored;
    if (interrupt.aborted)
      throw new CliError(`Stopped while making class images; the ${made.length} made so far are saved in ${o.out}. Run the same command again to go on.`, 130);
    throw error;
  } finally {
    if (!o.quiet) bar.stop();
  }
}

async function train(
  o: DreamBoothCliOptions,
  modelId: string,
  training: TrainingService,
  store: UseStore,
  folder: RunFolder,
  info: RunInfo,
  priorKeys: string[],
  interrupt: AbortSignal,
): Promise<{ result: TrainResult; startedAt: number }> {
  const bar = progressBar('step {value}/{total} {bar} {percentage}% | loss {loss} | ETA {eta_formatted}');
  let firstStep: number | null = null;
  let logsCut = false;
  let mirrored = Promise.resolve();
  let mirrorFailure: unknown = null;
  // A failed mirror (full disk) stops the run: training on would only lose more work.
  const stop = new AbortController();
  const onInterrupt = () => training.pause({ subjectId: SUBJECT_ID });
  interrupt.addEventListener('abort', onInterrupt);
  const ctx: JobContext<TrainProgress> = {
    signal: stop.signal,
    transfer: () => undefined,
    progress: (p) => {
      // A Ctrl-C that came before the run could take a pause (while it loaded and compiled) is passed on now.
      if (interrupt.aborted) onInterrupt();
      if (p.kind === 'stage' && /^(Resuming|Starting over)/.test(p.message)) say(o, p.message);
      if ((p.kind === 'fit' || p.kind === 'step') && !logsCut) {
        logsCut = true;
        // A new run's first such event is its step-0 fit: the logs start empty. A resumed one's is its first step:
        // the logs keep the steps before it.
        folder.truncateLogs(p.kind === 'fit' ? -1 : p.step - 1);
      }
      if (p.kind === 'fit') folder.appendLog('fit.jsonl', { step: p.step, fixed_batch_loss: p.loss });
      if (p.kind === 'step') {
        if (firstStep === null) {
          firstStep = p.step;
          if (!o.quiet) bar.start(p.totalSteps, p.step - 1, { loss: '-' });
        }
        folder.appendLog('loss.jsonl', {
          step: p.step,
          loss: p.loss,
          instance_loss: p.instanceLoss,
          prior_loss: p.priorLoss,
          lr: p.learningRate,
          grad_norm: p.gradNorm,
          ms_per_step: Math.round(p.msPerStep),
        });
        if (!o.quiet) bar.update(p.step, { loss: p.loss.toFixed(4) });
      }
      if (p.kind === 'checkpoint') {
        const checkpoint = p.checkpoint;
        mirrored = mirrored
          .then(async () => {
            await folder.mirrorCheckpoints(store, SUBJECT_ID);
            folder.writeInfo({ ...info, step: checkpoint.step, checkpoint });
          })
          .catch((error: unknown) => {
            mirrorFailure ??= error;
            stop.abort();
          });
      }
    },
  };
  try {
    const result = await training
      .train({ subjectId: SUBJECT_ID, settings: o.settings, priorKeys, resume: true, modelId, backend: requestBackend(o.backend) }, ctx)
      .catch(async (error: unknown) => {
        await mirrored;
        throw mirrorFailure ?? error;
      });
    await mirrored;
    if (mirrorFailure) throw mirrorFailure;
    Object.assign(info, { step: result.step, checkpoint: result.checkpoint });
    // A run restored at its last step trains no step: it starts where it ends.
    return { result, startedAt: firstStep === null ? result.step : firstStep - 1 };
  } finally {
    interrupt.removeEventListener('abort', onInterrupt);
    if (firstStep !== null && !o.quiet) bar.stop();
  }
}

/** One row: the instance prompt, then the recontextualization prompts, from the trained checkpoint at RECONTEXT_SEED. */
async function sampleGrid(generation: GenerationService, modelId: string, o: DreamBoothCliOptions): Promise<Uint8Array> {
  const s = o.settings;
  const prompts = [instancePrompt(o), ...recontextPrompts(o.identifier, o.classNoun)];
  const tiles: Uint8Array[] = [];
  let size = 0;
  for (const prompt of prompts) {
    say(o, `sample: ${prompt}`);
    const r = await generation.generate(
      {
        modelId,
        prompt,
        sampler: s.sampler,
        steps: s.samplingSteps,
        guidanceScale: s.guidanceScale,
        seed: RECONTEXT_SEED,
        numImages: 1,
        previewEvery: 0,
        backend: requestBackend(o.backend),
      },
      { signal: new AbortController().signal, progress: () => {}, transfer: () => {} },
    );
    size = r.width;
    tiles.push(pngToRgb(r.images[0]!.png));
  }
  return gridPng(tiles, size, prompts.length);
}
