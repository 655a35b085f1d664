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

/** A training image: PNG bytes, the identity its latents are cached under, and what to call it in messages. */
export interface TrainingPng {
  id: string;
  png: Uint8Array;
  what: string;
}

/**
 * The subject's crops at `side` px or larger.
 * @throws JobError (bad-input, `modelId`) naming the first photo whose shorter side is below `side`.
 */
export async function subjectCrops(store: UseStore, subject: Subject, model: { id: string; side: number }, cropPhoto: PhotoCropper): Promise<TrainingPng[]> {
  const { side } = model;
  const small = subject.photos.find((p) => Math.min(p.width, p.height) < side);
  if (small) {
    throw new JobError(
      'bad-input',
      `${model.id} makes ${side}×${side} images, but ${small.fileName} is only ${small.width}×${small.height}: replace it with a photo whose shorter side is at least ${side} px, or choose a smaller base model on Class priors`,
      'modelId',
    );
  }
  const stored = async (key: string, fileName: string, part: string) => {
    const blob = await loadBlob(store, key);
    if (!blob) throw new JobError('bad-input', `the ${part} of ${fileName} is missing from storage; remove the photo and add it again`, 'subjectId');
    return new Uint8Array(await blob.arrayBuffer());
  };
  return Promise.all(
    subject.photos.map(async (p) =>
      p.cropResolution >= side
        ? { id: p.cropSha256, png: await stored(p.cropSha256, p.fileName, 'crop'), what: p.fileName }
        : // Keyed by the original's hash and the side: the same photo at the same size reuses its latents.
          { id: `${p.sha256}:square${side}`, png: await cropPhoto(await stored(p.sha256, p.fileName, 'original file'), p.mime, side), what: p.fileName },
    ),
  );
}
