/**
 * A subject's photos at a base model's size. Photos are cropped once when added, at the built-in model's size; a base
 * model that makes larger images needs larger crops, so those are rendered again from the stored originals (the
 * worker with createImageBitmap, Node with pure-JS decoders: a `PhotoCropper`). A stored crop at least as large as
 * the model is used as it is (pngToModelInput area-resizes it).
 */
import type { UseStore } from 'idb-keyval';
import { JobError } from '../protocol/jobs';
import { loadBlob } from '../storage/subjectRecords';
import type { Subject } from '../subjects/subject';

/** The model's view of a photo from its original file: the largest centred square at `side`², on white, as PNG. */
export type PhotoCropper = (original: Uint8Array, mime: string, side: number) => Promise<Uint8Array>;

/**
 * A training image: the identity its latents are cached under, what to call it in messages, and its PNG bytes, read
 * (or cropped) only when asked: a run whose latents are cached reads no image.
 */
export interface TrainingPng {
  id: string;
  png: () => Promise<Uint8Array>;
  what: string;
}

/** Whether an image (a photo, a class image) is at least `side` px both ways: what a model making `side`-px images trains on. */
export const coversSide = (image: { width: number; height: number }, side: number) => Math.min(image.width, image.height) >= side;

/** Why the subject's photos cannot make `side`-px crops (the first photo too small), or null when they can. */
export function smallPhotoProblem(subject: Subject, model: { id: string; side: number }): string | null {
  const { side } = model;
  const small = subject.photos.find((p) => !coversSide(p, side));
  return small
    ? `${model.id} makes ${side}×${side} images, but ${small.fileName} is only ${small.width}×${small.height}: replace it with a photo whose shorter side is at least ${side} px`
    : null;
}

/**
 * The subject's crops at `side` px or larger, each read or cropped when its `png()` is called (one at a time: an
 * original may be tens of megapixels decoded).
 * @throws JobError (bad-input) when a photo is too small; `png()` when its stored files are missing or cannot be decoded.
 */
export function subjectCrops(store: UseStore, subject: Subject, model: { id: string; side: number }, cropPhoto: PhotoCropper): TrainingPng[] {
  const problem = smallPhotoProblem(subject, model);
  if (problem) throw new JobError('bad-input', problem, 'subjectId');
  const stored = async (key: string, fileName: string, part: string) => {
    const blob = await loadBlob(store, key);
    if (!blob) throw new JobError('bad-input', `the ${part} of ${fileName} is missing from storage; remove the photo and add it again`, 'subjectId');
    return new Uint8Array(await blob.arrayBuffer());
  };
  return subject.photos.map((p) =>
    p.cropResolution >= model.side
      ? { id: p.cropSha256, png: () => stored(p.cropSha256, p.fileName, 'crop'), what: p.fileName }
      : {
          // Keyed by the original's hash and the side: the same photo at the same size reuses its latents.
          id: `${p.sha256}:square${model.side}`,
          png: async () =>
            cropPhoto(await stored(p.sha256, p.fileName, 'original file'), p.mime, model.side).catch((error: unknown) => {
              if (error instanceof JobError) throw error;
              throw new JobError(
                'bad-input',
                `${p.fileName} could not be cropped again at ${model.side} px (${error instanceof Error ? error.message : String(error)}); remove the photo and add it again`,
                'subjectId',
              );
            }),
          what: p.fileName,
        },
  );
}
