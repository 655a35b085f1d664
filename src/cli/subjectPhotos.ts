/**
 * A folder of subject photos, judged by the studio's own rules (src/subjects: real type from the bytes, size limits,
 * the model's minimum side, duplicates, 3–5 photos) and turned into the crops the model sees (photoPixels.ts).
 * Everything is checked before anything is written. Node only.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { sha256Hex } from '../storage/contentHash';
import { isAnimated } from '../subjects/imageAnimation';
import { checkFileByteSize, checkImageBytes, undecodableProblem } from '../subjects/imageRules';
import { checkReadyToProceed, duplicatePhotoProblem, SUBJECT_IMAGE_COUNT } from '../subjects/subjectRules';
import { applyOrientation, centreSquareOnWhite, decodeRgba, exifOrientation, hasTransparency, rgbPng } from './photoPixels';
import { CliError } from './cliError';

export interface PreparedPhoto {
  fileName: string;
  /** SHA-256 of the file as it is on disk. */
  sha256: string;
  /** The centre-square crop at the model's side, PNG; and its SHA-256. */
  crop: Uint8Array<ArrayBuffer>;
  cropSha256: string;
  /** As displayed (EXIF orientation applied). */
  width: number;
  height: number;
  transparent: boolean;
  animated: boolean;
}

/**
 * Reads every file in `dir` (hidden files skipped, in name order) as a subject photo at `resolution`².
 * @throws CliError (exit 2) with the studio's message for the first photo that breaks a rule.
 */
export async function readSubjectPhotos(dir: string, resolution: number): Promise<PreparedPhoto[]> {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    throw new CliError(`--photos ${dir} cannot be read: ${(error as Error).message}`, 2);
  }
  const ready = checkReadyToProceed(names.length);
  if (ready) throw new CliError(`--photos ${dir}: ${ready}`, 2);
  if (names.length > SUBJECT_IMAGE_COUNT.max) {
    throw new CliError(
      `--photos ${dir} holds ${names.length} files; the studio trains on ${SUBJECT_IMAGE_COUNT.min}–${SUBJECT_IMAGE_COUNT.max} photos of the subject. Keep the best ${SUBJECT_IMAGE_COUNT.max}.`,
      2,
    );
  }
  const photos: PreparedPhoto[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const sizeProblem = checkFileByteSize(statSync(path).size);
    if (sizeProblem) throw new CliError(`${name} ${sizeProblem}`, 2);
    const bytes = new Uint8Array(readFileSync(path));
    const photo = await preparePhoto(name, bytes, resolution);
    const duplicate = photos.find((p) => p.sha256 === photo.sha256);
    if (duplicate) throw new CliError(duplicatePhotoProblem(name, duplicate.fileName), 2);
    photos.push(photo);
  }
  return photos;
}

async function preparePhoto(fileName: string, bytes: Uint8Array<ArrayBuffer>, resolution: number): Promise<PreparedPhoto> {
  const check = checkImageBytes(bytes, resolution);
  if (!check.ok) throw new CliError(`${fileName} ${check.problem}`, 2);
  let pixels;
  try {
    pixels = applyOrientation(await decodeRgba(bytes, check.format), await exifOrientation(bytes));
  } catch {
    throw new CliError(`${fileName} ${undecodableProblem(check.format)}`, 2);
  }
  const crop = rgbPng(centreSquareOnWhite(pixels, resolution), resolution);
  return {
    fileName,
    sha256: await sha256Hex(bytes),
    crop,
    cropSha256: await sha256Hex(crop),
    width: pixels.width,
    height: pixels.height,
    transparent: check.format !== 'jpeg' && hasTransparency(pixels),
    animated: isAnimated(bytes, check.format),
  };
}

/** The crop's file name in exports: the photo's name with a .png extension. */
export const cropFileName = (p: Pick<PreparedPhoto, 'fileName'>): string => `${p.fileName.slice(0, p.fileName.length - extname(p.fileName).length)}.png`;
