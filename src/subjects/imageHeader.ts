/**
 * Recognises image files by their magic bytes and reads their pixel size from the header alone,
 * so a file is judged before anything decodes it (extensions and MIME types are not trusted).
 */

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif';

export const IMAGE_MIME: Record<ImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
};

export type SniffResult =
  | { supported: true; format: ImageFormat }
  | { supported: false; /** What the bytes are, for the message ("an SVG drawing", "a text file"). */ looksLike: string };

export interface PixelSize {
  width: number;
  height: number;
}

const ascii = (bytes: Uint8Array, start: number, length: number): string => String.fromCharCode(...bytes.subarray(start, start + length));

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0): boolean =>
  bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1']);

/** Identifies the file type from its first bytes. */
export function sniffImageFormat(bytes: Uint8Array): SniffResult {
  if (bytes.length === 0) return { supported: false, looksLike: 'an empty file' };
  if (startsWith(bytes, PNG_SIGNATURE)) return { supported: true, format: 'png' };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { supported: true, format: 'jpeg' };
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return { supported: true, format: 'gif' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return { supported: true, format: 'webp' };

  if (ascii(bytes, 4, 4) === 'ftyp') {
    const brand = ascii(bytes, 8, 4);
    if (HEIF_BRANDS.has(brand)) return { supported: false, looksLike: 'a HEIC/HEIF photo' };
    if (brand === 'avif' || brand === 'avis') return { supported: false, looksLike: 'an AVIF image' };
    return { supported: false, looksLike: 'a video or ISO media file' };
  }
  if (ascii(bytes, 0, 2) === 'BM') return { supported: false, looksLike: 'a BMP bitmap' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { supported: false, looksLike: 'a TIFF or camera RAW file' };
  }
  if (ascii(bytes, 0, 5) === '%PDF-') return { supported: false, looksLike: 'a PDF document' };

  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 1024));
  if (/^\uFEFF?\s*</.test(head) && /<svg[\s>]/i.test(head)) return { supported: false, looksLike: 'an SVG drawing' };
  if (isMostlyText(bytes.subarray(0, 1024))) return { supported: false, looksLike: 'a text file' };
  return { supported: false, looksLike: 'an unknown file type' };
}

function isMostlyText(bytes: Uint8Array): boolean {
  let printable = 0;
  for (const b of bytes) {
    if (b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f) || b >= 0x80) printable++;
    else if (b === 0) return false;
  }
  return printable / bytes.length > 0.95;
}

/**
 * Reads width and height from the header of a recognised format; null when the header is cut short or malformed.
 * JPEG sizes are as stored: EXIF orientation may swap them on display, which does not change the pixel count.
 */
export function readPixelSize(bytes: Uint8Array, format: ImageFormat): PixelSize | null {
  const size = readers[format](bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return size && size.width > 0 && size.height > 0 ? size : null;
}

type SizeReader = (bytes: Uint8Array, view: DataView) => PixelSize | null;

const readers: Record<ImageFormat, SizeReader> = {
  png(bytes, view) {
    if (bytes.length < 24 || ascii(bytes, 12, 4) !== 'IHDR') return null;
    return { width: view.getUint32(16), height: view.getUint32(20) };
  },

  gif(bytes, view) {
    if (bytes.length < 10) return null;
    return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
  },

  webp(bytes, view) {
    if (bytes.length < 30) return null;
    const chunk = ascii(bytes, 12, 4);
    if (chunk === 'VP8X') {
      const u24 = (at: number) => view.getUint16(at, true) | (view.getUint8(at + 2) << 16);
      return { width: u24(24) + 1, height: u24(27) + 1 };
    }
    if (chunk === 'VP8L') {
      if (bytes[20] !== 0x2f) return null;
      const bits = view.getUint32(21, true);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    if (chunk === 'VP8 ') {
      if (!startsWith(bytes, [0x9d, 0x01, 0x2a], 23)) return null;
      return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
    }
    return null;
  },

  jpeg(bytes, view) {
    // Walk the marker segments up to the first start-of-frame, which holds the size.
    let at = 2;
    while (at + 4 <= bytes.length) {
      if (bytes[at] !== 0xff) return null;
      const marker = bytes[at + 1]!;
      if (marker === 0xff) {
        at += 1; // fill byte
        continue;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        at += 2; // markers without a length
        continue;
      }
      if (marker === 0xd9 || marker === 0xda) return null; // end of image or scan data before any frame header
      const length = view.getUint16(at + 2);
      const isStartOfFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isStartOfFrame) {
        if (at + 9 > bytes.length) return null;
        return { width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
      }
      at += 2 + length;
    }
    return null;
  },
};
