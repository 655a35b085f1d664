import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPixelSize, sniffImageFormat } from './imageHeader';

// Headers below are written byte by byte from each format's specification, independent of the reader.
const bytes = (...parts: (number[] | string)[]) => new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
const u16be = (n: number) => [n >> 8, n & 0xff];
const u16le = (n: number) => [n & 0xff, n >> 8];
const u24le = (n: number) => [n & 0xff, (n >> 8) & 0xff, n >> 16];
const u32le = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];

/** JPEG: SOI, an APP0 (JFIF) and an APP1 segment, a fill byte, then a start-of-frame `sof` (0xc0 baseline, 0xc2 progressive). */
const jpeg = (width: number, height: number, sof = 0xc0) =>
  bytes(
    [0xff, 0xd8],
    [0xff, 0xe0, ...u16be(16)],
    'JFIF\0',
    [1, 1, 0, 0, 1, 0, 1, 0, 0],
    [0xff, 0xe1, ...u16be(8)],
    'Exif\0\0',
    [0xff], // fill byte before the next marker is allowed
    [0xff, sof, ...u16be(17), 8, ...u16be(height), ...u16be(width), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1],
    [0xff, 0xda, ...u16be(12)],
  );

const riff = (chunk: string, body: number[]) => bytes('RIFF', u32le(4 + 8 + body.length), 'WEBP', chunk, u32le(body.length), body);

describe('sniffImageFormat', () => {
  it('recognises supported formats by magic bytes', () => {
    const emojiDir = join(dirname(createRequire(import.meta.url).resolve('emoji-datasource-google/package.json')), 'img/google/64');
    expect(sniffImageFormat(readFileSync(join(emojiDir, '1f431.png')))).toEqual({ supported: true, format: 'png' });
    expect(sniffImageFormat(jpeg(10, 10))).toEqual({ supported: true, format: 'jpeg' });
    expect(sniffImageFormat(bytes('GIF89a', u16le(3), u16le(4)))).toEqual({ supported: true, format: 'gif' });
    expect(sniffImageFormat(riff('VP8X', new Array(10).fill(0)))).toEqual({ supported: true, format: 'webp' });
  });

  it.each([
    ['empty', new Uint8Array(0), 'an empty file'],
    ['SVG', new TextEncoder().encode('\uFEFF  <?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'), 'an SVG drawing'],
    ['HEIC', bytes([0, 0, 0, 24], 'ftypheic', [0, 0, 0, 0], 'mif1heic'), 'a HEIC/HEIF photo'],
    ['AVIF', bytes([0, 0, 0, 28], 'ftypavif', [0, 0, 0, 0]), 'an AVIF image'],
    ['MP4', bytes([0, 0, 0, 28], 'ftypisom', [0, 0, 2, 0]), 'a video or ISO media file'],
    ['PDF', bytes('%PDF-1.7\n'), 'a PDF document'],
    ['BMP', bytes('BM', [0, 0, 0, 0]), 'a BMP bitmap'],
    ['TIFF', bytes([0x49, 0x49, 0x2a, 0]), 'a TIFF or camera RAW file'],
    ['text', bytes('just some notes, renamed to photo.jpg\n'), 'a text file'],
    ['binary noise', bytes([0x00, 0x13, 0x37, 0x00, 0xde, 0xad]), 'an unknown file type'],
  ])('names %s files it cannot use', (_, input, looksLike) => {
    expect(sniffImageFormat(input)).toEqual({ supported: false, looksLike });
  });
});

describe('readPixelSize', () => {
  it('reads a real PNG IHDR', () => {
    const emojiDir = join(dirname(createRequire(import.meta.url).resolve('emoji-datasource-google/package.json')), 'img/google/64');
    expect(readPixelSize(readFileSync(join(emojiDir, '1f431.png')), 'png')).toEqual({ width: 64, height: 64 });
  });

  it('walks JPEG segments to the frame header, baseline and progressive', () => {
    expect(readPixelSize(jpeg(4032, 3024), 'jpeg')).toEqual({ width: 4032, height: 3024 });
    expect(readPixelSize(jpeg(640, 480, 0xc2), 'jpeg')).toEqual({ width: 640, height: 480 });
  });

  it('does not mistake a Huffman table (0xc4) for a frame header', () => {
    const dht = bytes([0xff, 0xd8], [0xff, 0xc4, ...u16be(5), 0, 0, 0], [0xff, 0xc0, ...u16be(11), 8, ...u16be(7), ...u16be(9), 1, 1, 0x11, 0]);
    expect(readPixelSize(dht, 'jpeg')).toEqual({ width: 9, height: 7 });
  });

  it('reads GIF logical screen size', () => {
    expect(readPixelSize(bytes('GIF87a', u16le(300), u16le(200), [0, 0, 0]), 'gif')).toEqual({ width: 300, height: 200 });
  });

  it('reads all three WebP flavours', () => {
    const vp8 = [0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a, ...u16le(1920), ...u16le(1080), 0, 0];
    expect(readPixelSize(riff('VP8 ', vp8), 'webp')).toEqual({ width: 1920, height: 1080 });
    // VP8L: signature 0x2f, then 14 bits (width - 1) and 14 bits (height - 1), little-endian.
    const packed = (800 - 1) | ((600 - 1) << 14);
    expect(readPixelSize(riff('VP8L', [0x2f, ...u32le(packed), 0, 0, 0, 0, 0]), 'webp')).toEqual({ width: 800, height: 600 });
    // VP8X: flags, 3 reserved bytes, then 24-bit (width - 1) and (height - 1).
    expect(readPixelSize(riff('VP8X', [0x10, 0, 0, 0, ...u24le(20000 - 1), ...u24le(30000 - 1)]), 'webp')).toEqual({ width: 20000, height: 30000 });
  });

  it('returns null for headers that are cut short or inconsistent', () => {
    expect(readPixelSize(jpeg(100, 100).subarray(0, 30), 'jpeg')).toBeNull();
    expect(readPixelSize(bytes([0xff, 0xd8], [0xff, 0xda, 0, 2]), 'jpeg')).toBeNull(); // scan before any frame
    expect(readPixelSize(bytes([0x89], 'PNG', [13, 10, 26, 10], [0, 0, 0, 13], 'IHDR'), 'png')).toBeNull();
    expect(readPixelSize(bytes('GIF89a', u16le(0), u16le(10)), 'gif')).toBeNull(); // zero width
    expect(readPixelSize(riff('VP8L', [0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'webp')).toBeNull(); // bad signature
  });
});
