import { JobError } from '../protocol/jobs';
import type { JobContext } from '../protocol/server';
import type { PrepareImageRequest, PrepareImageStage, PreparedImage } from '../protocol/studioJobs';
import { sha256Hex } from '../storage/contentHash';
import { isAnimated } from '../subjects/imageAnimation';
import { IMAGE_MIME } from '../subjects/imageHeader';
import { checkImageBytes, undecodableProblem } from '../subjects/imageRules';

/**
 * Checks a photo from its bytes, decodes it with its EXIF orientation applied, and renders the centre-square
 * crop the model sees plus a thumbnail. Runs in the worker: decoding a 12 MP photo takes long enough to stall a page.
 */
export async function prepareImage(request: PrepareImageRequest, context: JobContext<PrepareImageStage>): Promise<PreparedImage> {
  context.progress('checking');
  const bytes = new Uint8Array(request.bytes);
  const check = checkImageBytes(bytes, request.resolution);
  if (!check.ok) throw new JobError('bad-input', check.problem, 'file');
  const mime = IMAGE_MIME[check.format];
  const sha256 = await sha256Hex(bytes);
  context.signal.throwIfAborted();

  context.progress('decoding');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type: mime }), { imageOrientation: 'from-image' });
  } catch {
    throw new JobError('bad-input', undecodableProblem(check.format), 'file');
  }
  try {
    context.signal.throwIfAborted();
    context.progress('cropping');
    const crop = await renderCentreSquare(bitmap, request.resolution);
    const thumbnail = await renderThumbnail(bitmap, request.thumbnailSize);
    context.transfer(crop, thumbnail);
    return {
      sha256,
      mime,
      width: bitmap.width,
      height: bitmap.height,
      crop,
      cropSide: request.resolution,
      thumbnail,
      transparent: check.format !== 'jpeg' && hasTransparency(bitmap),
      animated: isAnimated(bytes, check.format),
    };
  } finally {
    bitmap.close();
  }
}

/** PhotoCropper for the worker: a stored original rendered again as a crop of another size (a larger base model). */
export async function cropPhoto(original: Uint8Array, mime: string, side: number): Promise<Uint8Array> {
  const bitmap = await createImageBitmap(new Blob([original as Uint8Array<ArrayBuffer>], { type: mime }), { imageOrientation: 'from-image' });
  try {
    return new Uint8Array(await renderCentreSquare(bitmap, side));
  } finally {
    bitmap.close();
  }
}

/** The model's view of a photo: the largest centred square, resized to `side`², transparent parts on white. */
async function renderCentreSquare(bitmap: ImageBitmap, side: number): Promise<ArrayBuffer> {
  const square = Math.min(bitmap.width, bitmap.height);
  const left = Math.floor((bitmap.width - square) / 2);
  const top = Math.floor((bitmap.height - square) / 2);
  const resized = await createImageBitmap(bitmap, left, top, square, square, {
    resizeWidth: side,
    resizeHeight: side,
    resizeQuality: 'high',
  });
  try {
    return await encodeOnWhite(resized, side, side);
  } finally {
    resized.close();
  }
}

async function renderThumbnail(bitmap: ImageBitmap, longestSide: number): Promise<ArrayBuffer> {
  const scale = Math.min(1, longestSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const resized = await createImageBitmap(bitmap, { resizeWidth: width, resizeHeight: height, resizeQuality: 'high' });
  try {
    return await encodeOnWhite(resized, width, height);
  } finally {
    resized.close();
  }
}

/** Whether any pixel is not fully opaque (checked at up to 256 px: enough to see a cut-out or a clear background). */
function hasTransparency(bitmap: ImageBitmap): boolean {
  const scale = Math.min(1, 256 / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('OffscreenCanvas 2D context is unavailable in this browser');
  context.drawImage(bitmap, 0, 0, width, height);
  const { data } = context.getImageData(0, 0, width, height);
  for (let i = 3; i < data.length; i += 4) if (data[i]! < 255) return true;
  return false;
}

async function encodeOnWhite(bitmap: ImageBitmap, width: number, height: number): Promise<ArrayBuffer> {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('OffscreenCanvas 2D context is unavailable in this browser');
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return blob.arrayBuffer();
}
