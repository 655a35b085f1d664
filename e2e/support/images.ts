import type { Page } from '@playwright/test';
import { crc32 } from 'node:zlib';

export interface CanvasImage {
  width: number;
  height: number;
  type: 'image/png' | 'image/jpeg';
  /** Fill colours, painted as vertical bands from left to right. */
  bands: string[];
}

/** Encodes a banded image with the browser's own encoder, so the bytes are a real PNG/JPEG. */
export async function encodeInPage(page: Page, image: CanvasImage): Promise<Buffer> {
  const base64 = await page.evaluate(async ({ width, height, type, bands }) => {
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d')!;
    bands.forEach((colour, i) => {
      context.fillStyle = colour;
      const left = Math.round((i * width) / bands.length);
      context.fillRect(left, 0, Math.round(((i + 1) * width) / bands.length) - left, height);
    });
    const blob = await canvas.convertToBlob({ type, quality: 0.95 });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary);
  }, image);
  return Buffer.from(base64, 'base64');
}

/** Inserts an EXIF APP1 segment carrying only an Orientation tag right after the JPEG's SOI marker. */
export function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  const tiff = Buffer.from([
    0x4d,
    0x4d,
    0x00,
    0x2a,
    0x00,
    0x00,
    0x00,
    0x08, // big-endian TIFF header, first IFD at 8
    0x00,
    0x01, // one entry
    0x01,
    0x12,
    0x00,
    0x03,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    orientation,
    0x00,
    0x00, // Orientation, SHORT, 1
    0x00,
    0x00,
    0x00,
    0x00, // no next IFD
  ]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(payload.length + 2);
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1]), length, payload, jpeg.subarray(2)]);
}

/** Rewrites a PNG's IHDR size (with a valid CRC): a small file that claims to be huge. */
export function withPngSize(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)) >>> 0, 29); // CRC covers chunk type + data
  return out;
}

/** Keeps a PNG's signature and IHDR but replaces the image data with noise: sniffable, not decodable. */
export function corruptPngData(png: Buffer): Buffer {
  const junk = Buffer.alloc(200);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 37 + 11) & 0xff;
  return Buffer.concat([png.subarray(0, 33), junk]);
}

/** The first bytes of an iPhone HEIC photo: an ISO-BMFF `ftyp` box with the `heic` brand. */
export function heicHeader(): Buffer {
  const box = Buffer.alloc(24);
  box.writeUInt32BE(24, 0);
  box.write('ftypheic', 4, 'binary');
  box.write('mif1heic', 16, 'binary');
  return Buffer.concat([box, Buffer.alloc(400, 0x11)]);
}

/**
 * An animated GIF89a of `frames` solid frames (frame i black when i is even, white when odd), written by hand from
 * the GIF spec: 2-colour table, LZW with a clear code before every two pixels so codes stay 3 bits wide.
 */
export function animatedGif(width: number, height: number, frames: number): Buffer {
  const u16 = (n: number) => [n & 0xff, n >> 8];
  const lzw = (pixel: number) => {
    const codes: number[] = [];
    for (let i = 0; i < width * height; i += 2) codes.push(4, pixel, ...(i + 1 < width * height ? [pixel] : []));
    codes.push(5); // end of information
    const bytes: number[] = [];
    let bits = 0;
    let used = 0;
    for (const code of codes) {
      bits |= code << used;
      used += 3;
      while (used >= 8) {
        bytes.push(bits & 0xff);
        bits >>= 8;
        used -= 8;
      }
    }
    if (used > 0) bytes.push(bits & 0xff);
    const blocks: number[] = [];
    for (let i = 0; i < bytes.length; i += 255) {
      const chunk = bytes.slice(i, i + 255);
      blocks.push(chunk.length, ...chunk);
    }
    return [2, ...blocks, 0];
  };
  const frame = (i: number) => [
    0x21,
    0xf9,
    4,
    0,
    ...u16(20),
    0,
    0, // graphic control: 0.2 s
    0x2c,
    ...u16(0),
    ...u16(0),
    ...u16(width),
    ...u16(height),
    0,
    ...lzw(i % 2),
  ];
  return Buffer.from([
    ...Buffer.from('GIF89a', 'ascii'),
    ...u16(width),
    ...u16(height),
    0x80,
    0,
    0,
    0,
    0,
    0,
    255,
    255,
    255,
    0x21,
    0xff,
    11,
    ...Buffer.from('NETSCAPE2.0', 'ascii'),
    3,
    1,
    0,
    0,
    0, // loop forever
    ...Array.from({ length: frames }, (_, i) => frame(i)).flat(),
    0x3b,
  ]);
}
