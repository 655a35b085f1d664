import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FolderReader } from './folder';

/** A {@link FolderReader} over a directory on disk (Node only: tests and scripts). */
export function nodeFolderReader(dir: string): FolderReader {
  return async (path) => {
    try {
      return new Uint8Array(await readFile(join(dir, path)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  };
}
