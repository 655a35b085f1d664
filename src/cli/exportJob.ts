/**
 * `npm run dreambooth -- --export-job DIR`: the run the same flags describe, as a diffusers training job
 * (src/interop/trainingJobExport.ts) on disk. The photos pass the studio's rules and are cropped as for training; the
 * class images are those a run folder (--out) already made for this class, else none (diffusers' script then makes
 * them itself, --num_class_images of them, with the base model). Node only.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { coversSide } from '../dreambooth/subjectCrops';
import type { TrainSettings } from '../dreambooth/trainSettings';
import { diffusersFolderFiles } from '../interop/diffusersFolder';
import { modelFolderExtras } from '../interop/modelFolderExtras';
import { trainingJobFiles } from '../interop/trainingJobExport';
import type { PriorRecord } from '../storage/dreamboothRecords';
import { classPrompt } from '../subjects/subject';
import { writeFileAtomic } from './atomicFile';
import { JobError } from '../protocol/jobs';
import { CliError } from './cliError';
import { loadFolderModel } from './folderModels';
import { cropFileName, readSubjectPhotos } from './subjectPhotos';

export interface ExportJobOptions {
  /** The diffusers model folder the job personalizes; undefined: the built-in model. */
  model?: string;
  photos: string;
  classNoun: string;
  identifier: string;
  settings: TrainSettings;
  /** Where the job goes; must not exist yet or be empty. */
  dir: string;
  /** A `npm run dreambooth` run folder whose class images to ship. */
  runDir?: string;
}

/** The built-in model as a folder on disk. */
const BUILTIN_MODEL_DIR = 'models/builtin';

export async function exportTrainingJob(o: ExportJobOptions): Promise<{ exported: string; files: number; classImages: number; script: string }> {
  const model = await loadFolderModel(o.model ?? BUILTIN_MODEL_DIR).catch((error: unknown) => {
    throw error instanceof JobError ? new CliError(`--model: ${error.message}`, 2) : error;
  });
  // A small model's compact vocabulary (the built-in model's) becomes CLIP's tokenizer and a text encoder reading CLIP's ids, which
  // train_dreambooth*.py load (src/interop/clipVocabularyExport.ts); the identifier an added token on the reserved
  // row the studio would bind it to, so the script's instance prompt names the subject as the studio's run does.
  const baseModelFiles = diffusersFolderFiles(model.folder, undefined, modelFolderExtras(model, o.identifier));
  const photos = await readSubjectPhotos(o.photos, model.width);
  if (existsSync(o.dir) && (!statSync(o.dir).isDirectory() || readdirSync(o.dir).length > 0)) {
    throw new CliError(`--export-job ${o.dir} is not empty; give a new folder`, 2);
  }
  const priors = o.settings.priorLossWeight > 0 && o.runDir ? runClassImages(o.runDir, o.classNoun, model, o.settings.classImages) : [];
  const files = trainingJobFiles({
    photos: photos.map((p) => ({ name: cropFileName(p), bytes: p.crop })),
    priors,
    classNoun: o.classNoun,
    identifier: o.identifier,
    settings: o.settings,
    baseModelFiles,
  });
  for (const [path, bytes] of files) writeFileAtomic(join(o.dir, path), bytes);
  const sh = new TextDecoder().decode(files.get('train.sh'));
  return { exported: o.dir, files: files.size, classImages: priors.length, script: /train_dreambooth\w*\.py/.exec(sh)![0] };
}

/**
 * The class images of `classNoun` a run folder holds at least at the model's size (any model's images of the class
 * serve prior preservation, as the studio's training takes them; smaller ones the script would blow up), in seed
 * order, at most `count`.
 */
function runClassImages(runDir: string, classNoun: string, size: { width: number; height: number }, count: number): { name: string; bytes: Uint8Array }[] {
  const index = join(runDir, 'class_images', 'index.json');
  if (!existsSync(index)) return [];
  const records = (JSON.parse(readFileSync(index, 'utf8')) as Omit<PriorRecord, 'png'>[])
    .filter(
      (r) =>
        r.prompt === classPrompt(classNoun) && coversSide(r, Math.max(size.width, size.height)) && existsSync(join(runDir, 'class_images', `${r.key}.png`)),
    )
    .sort((a, b) => a.seed - b.seed)
    .slice(0, count);
  return records.map((r) => ({
    name: `${String(r.seed).padStart(4, '0')}.png`,
    bytes: new Uint8Array(readFileSync(join(runDir, 'class_images', `${r.key}.png`))),
  }));
}
