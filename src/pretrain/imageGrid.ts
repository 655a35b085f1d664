/** PNG grids of RGB tiles (pretraining sample grids, dataset previews). Node only. */
import { writeFileSync } from 'node:fs';
import { encode } from 'fast-png';

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

export function writeGrid(path: string, tiles: readonly Uint8Array[], size: number, columns: number): void {
  writeFileSync(path, gridPng(tiles, size, columns));
}
