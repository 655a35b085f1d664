/** PNG grids of RGB tiles: sample grids of the CLI and the pretraining tools, dataset previews. No Node or DOM APIs. */
import { decode, encode } from 'fast-png';

/** Tiles are size×size×3 uint8 RGB, placed row by row, `columns` per row, with a 2-pixel white gutter. */
export function gridPng(tiles: readonly Uint8Array[], size: number, columns: number): Uint8Array {
  const gap = 2;
  const rows = Math.ceil(tiles.length / columns);
  const width = columns * (size + gap) + gap;
  const height = rows * (size + gap) + gap;
  const data = new Uint8Array(width * height * 3).fill(255);
  tiles.forEach((tile, i) => {
    const x0 = gap + (i % columns) * (size + gap);
    const y0 = gap + Math.floor(i / columns) * (size + gap);
    for (let y = 0; y < size; y++) data.set(tile.subarray(y * size * 3, (y + 1) * size * 3), ((y0 + y) * width + x0) * 3);
  });
  return encode({ width, height, data, channels: 3, depth: 8 });
}

/** RGB tile (size×size×3) of an 8-bit PNG such as a generated image. */
export function pngToRgb(png: ArrayBuffer | Uint8Array): Uint8Array {
  const img = decode(png instanceof Uint8Array ? png : new Uint8Array(png));
  const ch = img.channels;
  const out = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = Number(img.data[i * ch + c]);
  return out;
}
