/**
 * Files the command-line tools write so that an interrupted or failed write never leaves a half-written file under
 * the real name: the bytes go to `<name>.tmp` first, which is then renamed over the target (atomic on one file
 * system). A full disk is reported as such, with what to do. Node only.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CliError } from './cliError';

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw explainWriteError(error, path);
  }
}

/** A full disk or quota becomes a CliError that says so; any other error is returned as it was. */
export function explainWriteError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new CliError(
      `the disk is full: ${path} could not be written. Free some space and run the same command again; it goes on from the last file that was saved.`,
    );
  }
  return error;
}
