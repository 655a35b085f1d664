/** Writes sample grids of the pretraining tools to disk. Node only. */
import { writeFileSync } from 'node:fs';
import { gridPng } from '../export/imageGrid';

export function writeGrid(path: string, tiles: readonly Uint8Array[], size: number, columns: number): void {
  writeFileSync(path, gridPng(tiles, size, columns));
}
