/**
 * What the studio's worker does with a photo through createImageBitmap and OffscreenCanvas (src/worker/
 * imagePreparation.ts), done in Node with pure-JS decoders: decode the first frame, apply the EXIF orientation, take
 * the largest centred square, resize it to the model's side and put transparent parts on white.
 *
 * Decoders: fast-png (PNG), jpeg-js (JPEG), omggif (GIF), @jsquash/webp (WebP; libwebp compiled to wasm, loaded
 * from its package folder, so nothing is fetched).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import decodeWebp, { init as initWebp } from '@jsquash/webp/decode.js';
import exifr from 'exifr';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import { decode as decodeJpeg } from 'jpeg-js';
import { GifReader } from 'omggif';
import { sniffImageFormat, type ImageFormat } from '../subjects/imageHeader';
import { IMAGE_LIMITS } from '../subjects/imageRules';

/** Straight (not premultiplied) 8-bit RGBA. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

let webpReady: Promise<void> | null = null;

/** Decodes the first frame of an image to RGBA. @throws when the data is damaged. */
export async function decodeRgba(bytes: Uint8Array, format: ImageFormat): Promise<Rgba> {
  switch (format) {
    case 'png':
      return pngToRgba(bytes);
    case 'jpeg': {
      const maxResolutionInMP = IMAGE_LIMITS.maxPixels / 1e6;
      const img = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP, maxMemoryUsageInMB: 4 * maxResolutionInMP + 64 });
      return { width: img.width, height: img.height, data: img.data };
    }
    case 'gif': {
      const reader = new GifReader(bytes);
      const data = new Uint8Array(reader.width * reader.height * 4);
      reader.decodeAndBlitFrameRGBA(0, data);
      return { width: reader.width, height: reader.height, data };
    }
    case 'webp': {
      webpReady ??= (async () => {
        const wasm = readFileSync(createRequire(import.meta.url).resolve('@jsquash/webp/codec/dec/webp_dec.wasm'));
        await initWebp(await WebAssembly.compile(wasm));
      })();
      await webpReady;
      const img = await decodeWebp(bytes.slice().buffer);
      return { width: img.width, height: img.height, data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength) };
    }
  }
}

function pngToRgba(bytes: Uint8Array): Rgba {
  const img = decodePng(bytes);
  const n = img.width * img.height;
  const out = new Uint8Array(n * 4);
  // 16-bit samples keep their high byte, as a canvas does.
  const sample = img.depth === 16 ? (v: number) => v >> 8 : (v: number) => v;
  if (img.palette) {
    for (let i = 0; i < n; i++) {
      const entry = img.palette[img.data[i]!]!;
      out.set([entry[0]!, entry[1]!, entry[2]!, entry[3] ?? 255], i * 4);
    }
    return { width: img.width, height: img.height, data: out };
  }
  const c = img.channels ?? 4;
  for (let i = 0; i < n; i++) {
    const at = i * c;
    const grey = c <= 2;
    out[i * 4] = sample(img.data[at]!);
    out[i * 4 + 1] = sample(img.data[grey ? at : at + 1]!);
    out[i * 4 + 2] = sample(img.data[grey ? at : at + 2]!);
    out[i * 4 + 3] = c === 2 || c === 4 ? sample(img.data[at + c - 1]!) : 255;
  }
  return { width: img.width, height: img.height, data: out };
}

/** The EXIF orientation (1–8) of a photo; 1 when it has none or it cannot be read. */
export async function exifOrientation(bytes: Uint8Array): Promise<number> {
  try {
    return (await exifr.orientation(bytes)) ?? 1;
  } catch {
    return 1;
  }
}

/** The image as displayed: EXIF orientations 2–8 mirror and/or rotate it (TIFF/EXIF 2.3, table of Orientation). */
export function applyOrientation(img: Rgba, orientation: number): Rgba {
  if (orientation < 2 || orientation > 8) return img;
  const swap = orientation >= 5;
  const width = swap ? img.height : img.width;
  const height = swap ? img.width : img.height;
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // The stored pixel shown at (x, y).
      const [sx, sy] = (
        {
          2: [img.width - 1 - x, y],
          3: [img.width - 1 - x, img.height - 1 - y],
          4: [x, img.height - 1 - y],
          5: [y, x],
          6: [y, img.height - 1 - x],
          7: [img.width - 1 - y, img.height - 1 - x],
          8: [img.width - 1 - y, x],
        } as Record<number, [number, number]>
      )[orientation]!;
      out.set(img.data.subarray((sy * img.width + sx) * 4, (sy * img.width + sx) * 4 + 4), (y * width + x) * 4);
    }
  }
  return { width, height, data: out };
}

/**
 * The model's view of a photo, as the worker's renderCentreSquare makes it: the largest centred square (offsets
 * floored), resized to side² by area averaging (a photo is never smaller than side: the rules refuse those), in
 * premultiplied alpha as a canvas resamples, then drawn over white. RGB, side²·3 bytes.
 */
export function centreSquareOnWhite(img: Rgba, side: number): Uint8Array {
  const square = Math.min(img.width, img.height);
  const left = Math.floor((img.width - square) / 2);
  const top = Math.floor((img.height - square) / 2);
  const scale = square / side;
  const out = new Uint8Array(side * side * 3);
  for (let oy = 0; oy < side; oy++) {
    const y0 = oy * scale;
    const y1 = y0 + scale;
    for (let ox = 0; ox < side; ox++) {
      const x0 = ox * scale;
      const x1 = x0 + scale;
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = Math.floor(y0); sy < Math.ceil(y1); sy++) {
        const wy = Math.min(y1, sy + 1) - Math.max(y0, sy);
        for (let sx = Math.floor(x0); sx < Math.ceil(x1); sx++) {
          const w = wy * (Math.min(x1, sx + 1) - Math.max(x0, sx));
          const at = ((top + sy) * img.width + left + sx) * 4;
          const alpha = img.data[at + 3]! / 255;
          r += w * img.data[at]! * alpha;
          g += w * img.data[at + 1]! * alpha;
          b += w * img.data[at + 2]! * alpha;
          a += w * alpha;
        }
      }
      const area = scale * scale;
      const white = 255 * (1 - a / area);
      out.set([r / area + white, g / area + white, b / area + white].map(Math.round), (oy * side + ox) * 3);
    }
  }
  return out;
}

/** Whether any pixel is not fully opaque. */
export function hasTransparency(img: Rgba): boolean {
  for (let i = 3; i < img.data.length; i += 4) if (img.data[i]! < 255) return true;
  return false;
}

export const rgbPng = (rgb: Uint8Array, side: number): Uint8Array<ArrayBuffer> =>
  new Uint8Array(encodePng({ width: side, height: side, data: rgb, channels: 3, depth: 8 }));

/** PhotoCropper in Node: the crop the worker's cropPhoto renders from a stored original. */
export async function cropPhoto(original: Uint8Array, _mime: string, side: number): Promise<Uint8Array> {
  const sniffed = sniffImageFormat(original);
  if (!sniffed.supported) throw new Error(`the stored original is ${sniffed.looksLike}, not an image the studio reads`);
  const pixels = applyOrientation(await decodeRgba(original, sniffed.format), await exifOrientation(original));
  return rgbPng(centreSquareOnWhite(pixels, side), side);
}
