import { readPixelSize, sniffImageFormat, type ImageFormat, type PixelSize } from './imageHeader';

/** Limits on what one subject photo may be. */
export const IMAGE_LIMITS = {
  /** Files above this are refused before they are read into memory. */
  maxFileBytes: 40 * 1024 * 1024,
  /** Decoding takes 4 bytes a pixel: 50 MP is ~200 MB, about what a browser tab can spare (covers 48 MP phones). */
  maxPixels: 50_000_000,
};

export type ImageCheck =
  { ok: true; format: ImageFormat; size: PixelSize } | { ok: false; /** Completes a sentence that starts with the file's name. */ problem: string };

const fmtMegapixels = (pixels: number) => `${(pixels / 1e6).toFixed(1)} megapixels`;

/** The problem of a file whose header looked right but whose image data would not decode. */
export const undecodableProblem = (format: ImageFormat): string => `is damaged: its ${format.toUpperCase()} data could not be decoded.`;

/** Problem with the file's size in bytes, checkable before reading it; null when fine. */
export function checkFileByteSize(byteLength: number): string | null {
  if (byteLength === 0) return 'is empty (0 bytes).';
  if (byteLength > IMAGE_LIMITS.maxFileBytes) {
    const mb = (byteLength / 1024 / 1024).toFixed(0);
    return `is ${mb} MB; the limit is ${IMAGE_LIMITS.maxFileBytes / 1024 / 1024} MB per photo.`;
  }
  return null;
}

/**
 * Judges a file from its bytes alone, before any decoding: real type (magic bytes), header size,
 * decompression-bomb cap and whether it can give a `resolution`-square crop.
 */
export function checkImageBytes(bytes: Uint8Array, resolution: number): ImageCheck {
  const byteProblem = checkFileByteSize(bytes.length);
  if (byteProblem) return { ok: false, problem: byteProblem };

  const sniffed = sniffImageFormat(bytes);
  if (!sniffed.supported) {
    const hint = sniffed.looksLike.includes('HEIC') ? ' Export it as JPEG first (on iPhone: Settings → Camera → Formats → Most Compatible).' : '';
    return {
      ok: false,
      problem: `is ${sniffed.looksLike}, not a photo the studio can read. Use JPEG, PNG, WebP or GIF.${hint}`,
    };
  }

  const size = readPixelSize(bytes, sniffed.format);
  if (!size) return { ok: false, problem: `is damaged: its ${sniffed.format.toUpperCase()} header is incomplete or corrupt.` };

  const pixels = size.width * size.height;
  if (pixels > IMAGE_LIMITS.maxPixels) {
    return {
      ok: false,
      problem:
        `is ${size.width}×${size.height} (${fmtMegapixels(pixels)}); the limit is ${fmtMegapixels(IMAGE_LIMITS.maxPixels)} ` +
        'because decoding larger images can exhaust the browser’s memory. Downscale it first.',
    };
  }
  if (Math.min(size.width, size.height) < resolution) {
    return {
      ok: false,
      problem:
        `is only ${size.width}×${size.height}; its shorter side must be at least ${resolution} px ` +
        `to crop the ${resolution}×${resolution} square the model sees.`,
    };
  }
  return { ok: true, format: sniffed.format, size };
}
