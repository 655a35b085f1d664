import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { applyOrientation, centreSquareOnWhite, decodeRgba, exifOrientation, type Rgba } from './photoPixels';

/** A JPEG whose left half is red and right half blue, with an EXIF Orientation tag when `orientation` is given. */
function jpeg(width: number, height: number, orientation?: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set(i % width < width / 2 ? [255, 0, 0, 255] : [0, 0, 255, 255], i * 4);
  const plain = new Uint8Array(encodeJpeg({ width, height, data }, 95).data);
  if (orientation === undefined) return plain;
  // APP1 "Exif": a big-endian TIFF header and one IFD entry, Orientation (0x0112, SHORT, 1) = orientation.
  const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0];
  const payload = [...'Exif'].map((c) => c.charCodeAt(0)).concat([0, 0], tiff);
  const app1 = [0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload];
  return new Uint8Array([...plain.subarray(0, 2), ...app1, ...plain.subarray(2)]);
}

const rgbAt = (img: Rgba, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3));
const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 40);

describe('photo pixels (the worker’s crop, in Node)', () => {
  it('decodes a JPEG and turns it as its EXIF orientation says (6: a quarter turn clockwise)', async () => {
    const bytes = jpeg(32, 16, 6);
    expect(await exifOrientation(bytes)).toBe(6);
    expect(await exifOrientation(jpeg(32, 16))).toBe(1);
    const shown = applyOrientation(await decodeRgba(bytes, 'jpeg'), 6);
    expect([shown.width, shown.height]).toEqual([16, 32]);
    // The stored left (red) half is the displayed top.
    expect(near(rgbAt(shown, 8, 4), [255, 0, 0])).toBe(true);
    expect(near(rgbAt(shown, 8, 28), [0, 0, 255])).toBe(true);
  });

  it('every orientation keeps the pixels, mirrors and turns as EXIF defines', () => {
    // 2×1: pixel A (value 1) left of pixel B (value 2).
    const img: Rgba = { width: 2, height: 1, data: new Uint8Array([1, 1, 1, 255, 2, 2, 2, 255]) };
    const seen = (o: number) => {
      const r = applyOrientation(img, o);
      return { size: [r.width, r.height], order: Array.from(r.data.filter((_, i) => i % 4 === 0)) };
    };
    expect(seen(1)).toEqual({ size: [2, 1], order: [1, 2] });
    expect(seen(2)).toEqual({ size: [2, 1], order: [2, 1] });
    expect(seen(3)).toEqual({ size: [2, 1], order: [2, 1] });
    expect(seen(4)).toEqual({ size: [2, 1], order: [1, 2] });
    expect(seen(5)).toEqual({ size: [1, 2], order: [1, 2] });
    expect(seen(6)).toEqual({ size: [1, 2], order: [1, 2] });
    expect(seen(7)).toEqual({ size: [1, 2], order: [2, 1] });
    expect(seen(8)).toEqual({ size: [1, 2], order: [2, 1] });
  });

  it('crops the centred square, averages it down and puts transparency on white', () => {
    // 6×4: the centred 4×4 square starts at x = 1. Its left half is opaque black, its right half fully transparent.
    const data = new Uint8Array(6 * 4 * 4);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) data.set(x < 3 ? [0, 0, 0, 255] : [0, 0, 0, 0], (y * 6 + x) * 4);
    const rgb = centreSquareOnWhite({ width: 6, height: 4, data }, 2);
    expect(Array.from(rgb)).toEqual([0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255]);
    // Half-transparent black averages to mid grey on white.
    const half = centreSquareOnWhite({ width: 2, height: 2, data: new Uint8Array(16).fill(0).map((_, i) => (i % 4 === 3 ? 128 : 0)) }, 1);
    expect(half[0]).toBe(127);
  });
});
