import { describe, expect, it } from 'vitest';
import { gifFrameCount, isAnimated } from './imageAnimation';

const u16le = (n: number) => [n & 0xff, n >> 8];
const text = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const u32be = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

/** A GIF89a (GIF spec blocks) with a 2-colour global table, a NETSCAPE loop extension and `frames` 1×1 frames. */
function gif(frames: number): Uint8Array {
  const frame = [
    ...[0x21, 0xf9, 4, 0, 10, 0, 0, 0], // graphic control extension: delay 10, then its terminator
    ...[0x2c, ...u16le(0), ...u16le(0), ...u16le(1), ...u16le(1), 0], // image descriptor, no local table
    ...[2, 2, 0x4c, 0x01, 0], // LZW min code size 2, one 2-byte sub-block, terminator
  ];
  return Uint8Array.from([
    ...text('GIF89a'),
    ...u16le(1),
    ...u16le(1),
    0x80,
    0,
    0, // screen: global table of 2 colours
    ...[0, 0, 0, 255, 255, 255],
    ...[0x21, 0xff, 11, ...text('NETSCAPE2.0'), 3, 1, 0, 0, 0], // application extension (loop)
    ...Array.from({ length: frames }, () => frame).flat(),
    0x3b,
  ]);
}

/** PNG signature and chunks (CRCs are not checked by the reader, so zeros). */
function png(...chunks: string[]): Uint8Array {
  const body = chunks.flatMap((name) => [...u32be(1), ...text(name), 0, 0, 0, 0, 0]);
  return Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...body]);
}

const webp = (flags: number) => Uint8Array.from([...text('RIFF'), 0, 0, 0, 0, ...text('WEBP'), ...text('VP8X'), 10, 0, 0, 0, flags, 0, 0, 0]);

describe('isAnimated', () => {
  it('counts GIF frames through extensions and colour tables', () => {
    expect(gifFrameCount(gif(1))).toBe(1);
    expect(gifFrameCount(gif(3))).toBe(3);
    expect(isAnimated(gif(1), 'gif')).toBe(false);
    expect(isAnimated(gif(2), 'gif')).toBe(true);
  });

  it('finds APNG by its acTL chunk before the image data', () => {
    expect(isAnimated(png('IHDR', 'acTL', 'IDAT', 'IEND'), 'png')).toBe(true);
    expect(isAnimated(png('IHDR', 'IDAT', 'IEND'), 'png')).toBe(false);
    expect(isAnimated(png('IHDR', 'IDAT', 'acTL'), 'png')).toBe(false); // after IDAT it is no animation control
  });

  it("reads WebP's VP8X animation flag", () => {
    expect(isAnimated(webp(0x02), 'webp')).toBe(true);
    expect(isAnimated(webp(0x10), 'webp')).toBe(false); // alpha only
  });
});
