import { encode } from 'fast-png';
import { formatInfotext, type Infotext } from './infotext';
import { embedPngText, readPngText } from './pngText';

/** The keyword under which AUTOMATIC1111 (and so other SD tools) store generation parameters. */
export const PARAMETERS_KEYWORD = 'parameters';

/**
 * Encodes 8-bit RGBA pixels (row-major, 4 bytes per pixel) as PNG bytes, without a canvas, so it
 * works in Node and in workers; browsers may use OffscreenCanvas.convertToBlob instead and then
 * add the parameters with `embedPngText`.
 */
export function encodeRgbaPng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`RGBA data for ${width}x${height} needs ${width * height * 4} bytes, got ${rgba.length}`);
  }
  return encode({ width, height, data: rgba, channels: 4, depth: 8 });
}

/** PNG bytes of `rgba` carrying `info` in a `parameters` chunk, as AUTOMATIC1111 saves its images. */
export function encodePngWithParameters(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, info: Infotext): Uint8Array {
  return embedPngText(encodeRgbaPng(rgba, width, height), PARAMETERS_KEYWORD, formatInfotext(info));
}

/** The `parameters` text of a PNG (as A1111 wrote it), or undefined when there is none. */
export function readPngParameters(png: Uint8Array): string | undefined {
  return readPngText(png)[PARAMETERS_KEYWORD];
}
