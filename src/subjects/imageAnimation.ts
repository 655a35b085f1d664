import type { ImageFormat } from './imageHeader';

/**
 * Whether a photo's file holds more than one frame. Browsers decode only the first frame of an animation into
 * an ImageBitmap, so the studio says so on the photo's card instead of silently training on one frame.
 * Read from the container structure: GIF image descriptors, PNG's `acTL` chunk (APNG), WebP's VP8X animation flag.
 */
export function isAnimated(bytes: Uint8Array, format: ImageFormat): boolean {
  switch (format) {
    case 'gif':
      return gifFrameCount(bytes) > 1;
    case 'png':
      return pngHasChunk(bytes, 'acTL');
    case 'webp':
      // RIFF header (12) + "VP8X" chunk header (8); flag bit 1 of the first payload byte is "animation".
      return ascii(bytes, 12, 4) === 'VP8X' && bytes.length > 20 && (bytes[20]! & 0x02) !== 0;
    case 'jpeg':
      return false;
  }
}

/** Frames (image descriptors) in a GIF, walking its blocks; a truncated file counts the frames it has. */
export function gifFrameCount(bytes: Uint8Array): number {
  let at = 13; // header (6) + logical screen descriptor (7)
  const packed = bytes[10] ?? 0;
  if (packed & 0x80) at += 3 * 2 ** ((packed & 0x07) + 1); // global colour table
  let frames = 0;
  const skipSubBlocks = () => {
    while (at < bytes.length && bytes[at] !== 0) at += bytes[at]! + 1;
    at++; // the terminator
  };
  while (at < bytes.length) {
    const block = bytes[at];
    if (block === 0x3b) break; // trailer
    if (block === 0x21) {
      at += 2; // introducer and label
      skipSubBlocks();
    } else if (block === 0x2c) {
      frames++;
      const local = bytes[at + 9] ?? 0;
      at += 10;
      if (local & 0x80) at += 3 * 2 ** ((local & 0x07) + 1); // local colour table
      at++; // LZW minimum code size
      skipSubBlocks();
    } else {
      break; // not a GIF block: stop rather than guess
    }
  }
  return frames;
}

/** Whether a PNG has `type` among the chunks before its image data. */
function pngHasChunk(bytes: Uint8Array, type: string): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const name = ascii(bytes, at + 4, 4);
    if (name === type) return true;
    if (name === 'IDAT' || name === 'IEND') return false;
    at += 12 + length;
  }
  return false;
}

const ascii = (bytes: Uint8Array, at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));
