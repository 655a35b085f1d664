/** The command-line tools' progress bar (cli-progress on stderr): one line, redrawn; a line every 30 s when not a TTY. */
import { SingleBar } from 'cli-progress';

export function progressBar(format: string): SingleBar {
  return new SingleBar({ format, etaBuffer: 50, noTTYOutput: true, notTTYSchedule: 30_000 });
}
