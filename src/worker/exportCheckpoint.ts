/**
 * The `exportCheckpoint` job: a stored checkpoint as the files other tools load — its LoRA (diffusers/peft or kohya
 * key names) or, for a run that trained whole weights, the merged model as a diffusers folder (both by
 * src/interop/checkpointExport.ts); or the whole training job (src/interop/trainingJobExport.ts) — built from the
 * checkpoint in IndexedDB and its base model, handed to the page as one file to download.
 *
 * A LoRA that trained the identifier's embedding comes as a .zip of the LoRA and `<identifier>.safetensors`: the LoRA
 * alone does not know the identifier, and the two go to different places (A1111: models/Lora and embeddings/, where
 * the embedding's file name is the word that calls it; diffusers: load_lora_weights and load_textual_inversion), so
 * one download keeps them together, where two would have the browser ask to allow several downloads and could leave
 * the person with half. A LoRA without an embedding is the bare .safetensors.
 */
import { zipSync } from 'fflate';
import type { UseStore } from 'idb-keyval';
import type { ExportCheckpointRequest, ExportedFile } from '../dreambooth/jobTypes';
import { coversSide, subjectCrops, type PhotoCropper } from '../dreambooth/subjectCrops';
import { diffusersFolderFiles } from '../interop/diffusersFolder';
import { checkpointExport } from '../interop/checkpointExport';
import { InteropError } from '../interop/interopError';
import { modelFolderExtras } from '../interop/modelFolderExtras';
import { trainingJobFiles, type TrainingJobInput } from '../interop/trainingJobExport';
import { JobError } from '../protocol/jobs';
import { getPriors, loadCheckpoint, loadPriorSelection, type PriorRecord } from '../storage/dreamboothRecords';
import { loadSubjects } from '../storage/subjectRecords';
import type { Subject } from '../subjects/subject';
import type { ModelLoader } from './baseModels';

const SAFETENSORS = 'application/octet-stream';
const ZIP = 'application/zip';

export async function exportCheckpoint(store: UseStore, model: ModelLoader, cropPhoto: PhotoCropper, request: ExportCheckpointRequest): Promise<ExportedFile> {
  const { subjectId, checkpointId, format } = request;
  const saved = await loadCheckpoint(store, subjectId, checkpointId);
  // An earlier checkpoint loaded in place of a damaged one is not what the person asked to export.
  if (!saved || saved.info.id !== checkpointId || !saved.parts.state) {
    throw new JobError(
      'bad-input',
      `the checkpoint ${checkpointId} is no longer stored whole${saved?.note ? ` (${saved.note})` : ''}; export another one`,
      'checkpointId',
    );
  }
  const { info } = saved;
  const subject = (await loadSubjects(store)).subjects.find((s) => s.id === subjectId);
  const base = await model(info.baseModelId);
  const stem = fileStem(subject?.name ?? subjectId, info.identifier, info.step);

  if (format === 'training-job') {
    // The job trains from the base model on a GPU machine: it ships the base, not this checkpoint's weights.
    const images = await trainingImages(store, subject, { id: base.id, side: Math.max(base.width, base.height) }, cropPhoto, info.settings.priorLossWeight > 0);
    // The identifier an added token on the row the run bound it to: the script's instance prompt names the subject so.
    const baseModelFiles = diffusersFolderFiles(base.folder, undefined, modelFolderExtras(base, info.identifier));
    const files = trainingJobFiles({ ...images, classNoun: info.classNoun, identifier: info.identifier, settings: info.settings, baseModelFiles });
    return file(`${stem}-training-job.zip`, ZIP, zip(files));
  }

  const state = new Uint8Array(await saved.parts.state.arrayBuffer());
  const exported = await checkpointExport(state, base.folder, info, format === 'lora-kohya' ? 'kohya' : 'peft', modelFolderExtras(base, info.identifier)).catch(
    (error: unknown) => {
      // The checkpoint's values do not fit its base model: say which key, as an import would.
      throw error instanceof InteropError ? new JobError('bad-input', error.message, 'checkpointId') : error;
    },
  );
  const wanted = format === 'diffusers-folder' ? 'diffusers-folder' : 'lora';
  if (exported.kind !== wanted) {
    const why =
      exported.kind === 'lora'
        ? 'this run trained LoRA adapters: export its LoRA'
        : 'this run trained whole weights, which no LoRA can carry: export the model';
    throw new JobError('bad-input', why, 'format');
  }
  if (exported.kind === 'diffusers-folder') return file(`${stem}-diffusers.zip`, ZIP, zip(exported.files));
  const suffix = format === 'lora-kohya' ? 'lora-kohya' : 'lora';
  const [only, ...more] = exported.files.values();
  return more.length === 0 ? file(`${stem}-${suffix}.safetensors`, SAFETENSORS, only!) : file(`${stem}-${suffix}.zip`, ZIP, zip(exported.files));
}

/** The subject's photos (the square crops it trained on, at the base model's size) and its class images at least that size, named for the job's folders. */
async function trainingImages(
  store: UseStore,
  subject: Subject | undefined,
  model: { id: string; side: number },
  cropPhoto: PhotoCropper,
  withPriors: boolean,
): Promise<Pick<TrainingJobInput, 'photos' | 'priors'>> {
  if (!subject) throw new JobError('bad-input', 'the subject of this checkpoint was deleted, so its photos cannot go into a training job', 'subjectId');
  const photos = [];
  for (const [i, crop] of subjectCrops(store, subject, model, cropPhoto).entries()) {
    photos.push({ name: `${String(i + 1).padStart(2, '0')}-${slug(crop.what.replace(/\.[^.]*$/, '')) || 'photo'}.png`, bytes: await crop.png() });
  }
  const selection = withPriors ? await loadPriorSelection(store, subject.id) : undefined;
  const dropped = new Set(selection?.dropped ?? []);
  const records = await getPriors(store, selection?.keys.filter((key) => !dropped.has(key)) ?? []);
  const priors = await Promise.all(
    records
      // What training takes: class images at least the model's size.
      .filter((r): r is PriorRecord => r !== undefined && coversSide(r, model.side))
      .map(async (r, i) => ({ name: `class-${String(i + 1).padStart(4, '0')}.png`, bytes: new Uint8Array(await r.png.arrayBuffer()) })),
  );
  return { photos, priors };
}

/** Weights barely compress: stored uncompressed, a zip of a model is made in a moment. */
const zip = (files: ReadonlyMap<string, Uint8Array>) => zipSync(Object.fromEntries(files), { level: 0 });

/** `<subject>-<identifier>-step<N>`, safe on every file system. */
export function fileStem(subjectName: string, identifier: string, step: number): string {
  return [slug(subjectName), slug(identifier), `step${step}`].filter(Boolean).join('-');
}

function slug(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .toLowerCase();
}

function file(fileName: string, mime: string, bytes: Uint8Array): ExportedFile {
  // Safetensors and zips are built in buffers of their own: unless the view is a part of one, hand over the buffer itself.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return { fileName, mime, bytes: (whole ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer };
}
