/** A PNG made `factor` times larger by repeating each pixel (tests that need photos larger than the 64-px emoji). */
import { decode, encode } from 'fast-png';

export function upscaledPng(png: Uint8Array, factor: number): Uint8Array<ArrayBuffer> {
  const img = decode(png);
  if (img.palette) throw new Error('upscaledPng: indexed-colour PNGs are not supported');
  const c = img.channels;
  const [w, h] = [img.width * factor, img.height * factor];
  const data = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const from = (Math.floor(y / factor) * img.width + Math.floor(x / factor)) * c;
      for (let k = 0; k < c; k++) data[(y * w + x) * c + k] = img.data[from + k]!;
    }
  }
  return new Uint8Array(encode({ width: w, height: h, data, channels: c, depth: 8 }));
}
