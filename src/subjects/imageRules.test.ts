import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFileByteSize, checkImageBytes, IMAGE_LIMITS } from './imageRules';

const emoji = readFileSync(join(dirname(createRequire(import.meta.url).resolve('emoji-datasource-google/package.json')), 'img/google/64/1f436.png'));

/** The real 64×64 emoji PNG with its IHDR claiming another size (the CRC is irrelevant to the header check). */
function pngClaiming(width: number, height: number): Uint8Array {
  const copy = new Uint8Array(emoji);
  const view = new DataView(copy.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return copy;
}

describe('checkImageBytes', () => {
  it('accepts a photo whose shorter side reaches the model resolution', () => {
    expect(checkImageBytes(emoji, 64)).toEqual({ ok: true, format: 'png', size: { width: 64, height: 64 } });
  });

  it('refuses images smaller than the crop, naming both sizes', () => {
    const result = checkImageBytes(emoji, 128);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toBe('is only 64×64; its shorter side must be at least 128 px to crop the 128×128 square the model sees.');
    expect(checkImageBytes(pngClaiming(5000, 63), 64).ok).toBe(false);
  });

  it('refuses decompression bombs from the header, before decoding', () => {
    const result = checkImageBytes(pngClaiming(10000, 10000), 64);
    expect(!result.ok && result.problem).toMatch(/^is 10000×10000 \(100\.0 megapixels\); the limit is 50\.0 megapixels/);
    const side = Math.ceil(Math.sqrt(IMAGE_LIMITS.maxPixels)) + 1;
    expect(checkImageBytes(pngClaiming(side, side), 64).ok).toBe(false);
    expect(checkImageBytes(pngClaiming(8000, 6000), 64).ok).toBe(true); // a 48 MP phone photo still fits
  });

  it('refuses files that are not images the studio reads, with advice for HEIC', () => {
    const heic = new Uint8Array([0, 0, 0, 24, ...'ftypheic'.split('').map((c) => c.charCodeAt(0)), 0, 0, 0, 0]);
    const result = checkImageBytes(heic, 64);
    expect(!result.ok && result.problem).toMatch(/^is a HEIC\/HEIF photo, not a photo the studio can read\. .*Export it as JPEG/);
    const text = new TextEncoder().encode('hello');
    expect(checkImageBytes(text, 64)).toEqual({ ok: false, problem: expect.stringMatching(/^is a text file/) });
  });

  it('reports an unreadable header as damage', () => {
    expect(checkImageBytes(emoji.subarray(0, 20), 64)).toEqual({
      ok: false,
      problem: 'is damaged: its PNG header is incomplete or corrupt.',
    });
  });
});

describe('checkFileByteSize', () => {
  it('refuses empty and oversized files and accepts the rest', () => {
    expect(checkFileByteSize(0)).toBe('is empty (0 bytes).');
    expect(checkFileByteSize(IMAGE_LIMITS.maxFileBytes + 1)).toMatch(/the limit is 40 MB per photo/);
    expect(checkFileByteSize(IMAGE_LIMITS.maxFileBytes)).toBeNull();
  });
});
