/**
 * The --out folder of `npm run dreambooth`: the durable half of a run whose services work on an in-process IndexedDB
 * (fake-indexeddb). What the store holds that a rerun needs — class images and checkpoints — is mirrored to files as
 * it is saved (each file written atomically), and restored into the fresh store when the same command runs again,
 * so the run goes on where it stopped. Node only.
 *
 *   run.json                     the run: subject, settings, status, step, newest checkpoint
 *   photos/<name>.png            the crops the model trains on
 *   class_images/<key>.png       class images, with class_images/index.json (their records, PNGs aside)
 *   checkpoints/<id>.safetensors the kept checkpoints, with checkpoints/index.json (their infos, oldest → newest)
 *   loss.jsonl                   one line per training step
 *   fit.jsonl                    the loss on the run's fixed batch: at step 0 and at each checkpoint
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { UseStore } from 'idb-keyval';
import type { CheckpointInfo } from '../dreambooth/jobTypes';
import type { TrainSettings } from '../dreambooth/trainSettings';
import { getPriors, listCheckpoints, loadCheckpoint, putPrior, saveCheckpoint, type PriorRecord } from '../storage/dreamboothRecords';
import { explainWriteError, writeFileAtomic } from './atomicFile';

export interface RunInfo {
  /** The model personalized: 'builtin' or `folder:<path>` (absent in run folders written before --model: the built-in model). */
  model?: string;
  subject: { classNoun: string; identifier: string; photos: { fileName: string; sha256: string }[] };
  settings: TrainSettings;
  status: 'class-images' | 'training' | 'paused' | 'finished';
  step: number;
  checkpoint: CheckpointInfo | null;
}

type StoredPrior = Omit<PriorRecord, 'png'>;

const LOGS = ['loss.jsonl', 'fit.jsonl'] as const;
type LogName = (typeof LOGS)[number];

export class RunFolder {
  constructor(readonly dir: string) {}

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Temp files of writes a killed process left behind. */
  removeTempFiles(): void {
    for (const sub of ['', 'photos', 'class_images', 'checkpoints']) {
      if (!existsSync(this.path(sub))) continue;
      for (const f of readdirSync(this.path(sub))) if (f.endsWith('.tmp')) rmSync(this.path(sub, f));
    }
  }

  readInfo(): RunInfo | null {
    return existsSync(this.path('run.json')) ? (JSON.parse(readFileSync(this.path('run.json'), 'utf8')) as RunInfo) : null;
  }

  writeInfo(info: RunInfo): void {
    writeFileAtomic(this.path('run.json'), `${JSON.stringify(info, null, 2)}\n`);
  }

  writeFile(name: string, bytes: Uint8Array | string): void {
    writeFileAtomic(this.path(name), bytes);
  }

  // ---------------------------------------------------------------- class images

  private priorIndex(): StoredPrior[] {
    const index = this.path('class_images', 'index.json');
    return existsSync(index) ? (JSON.parse(readFileSync(index, 'utf8')) as StoredPrior[]) : [];
  }

  /** Puts the class images saved here back into the store (generateClassPriors then finds them made). */
  async restorePriors(store: UseStore): Promise<number> {
    let n = 0;
    for (const record of this.priorIndex()) {
      const file = this.path('class_images', `${record.key}.png`);
      if (!existsSync(file)) continue;
      await putPrior(store, { ...record, png: new Blob([readFileSync(file)], { type: 'image/png' }) });
      n++;
    }
    return n;
  }

  /** Writes the class images `keys` from the store (those not written yet), then the index. */
  async mirrorPriors(store: UseStore, keys: readonly string[]): Promise<void> {
    const index = this.priorIndex();
    const known = new Set(index.map((r) => r.key));
    const fresh = keys.filter((k) => !known.has(k));
    if (fresh.length === 0) return;
    for (const record of await getPriors(store, fresh)) {
      if (!record) continue;
      const { png, ...rest } = record;
      this.writeFile(join('class_images', `${record.key}.png`), new Uint8Array(await png.arrayBuffer()));
      index.push(rest);
    }
    this.writeFile(join('class_images', 'index.json'), JSON.stringify(index, null, 2));
  }

  /** The class images' PNG bytes, in `keys` order. */
  priorPngs(keys: readonly string[]): { name: string; bytes: Uint8Array }[] {
    return keys.map((key) => ({ name: `${key}.png`, bytes: new Uint8Array(readFileSync(this.path('class_images', `${key}.png`))) }));
  }

  // ---------------------------------------------------------------- checkpoints

  private checkpointIndex(): CheckpointInfo[] {
    const index = this.path('checkpoints', 'index.json');
    return existsSync(index) ? (JSON.parse(readFileSync(index, 'utf8')) as CheckpointInfo[]) : [];
  }

  checkpointFile(id: string): string {
    return this.path('checkpoints', `${id}.safetensors`);
  }

  /** Lists the checkpoints saved here in the store again (oldest first), so `train` with resume finds the newest. */
  async restoreCheckpoints(store: UseStore, keep: number): Promise<void> {
    for (const info of this.checkpointIndex()) {
      const file = this.checkpointFile(info.id);
      if (existsSync(file)) await saveCheckpoint(store, { info, parts: { state: new Blob([readFileSync(file)]) } }, keep);
    }
  }

  /** Writes the subject's checkpoints the store lists that are not on disk yet, drops those it no longer lists, then the index. */
  async mirrorCheckpoints(store: UseStore, subjectId: string): Promise<void> {
    const listed = await listCheckpoints(store, subjectId);
    for (const info of listed) {
      if (existsSync(this.checkpointFile(info.id))) continue;
      const saved = await loadCheckpoint(store, subjectId, info.id);
      if (saved?.info.id !== info.id) continue;
      this.writeFile(join('checkpoints', `${info.id}.safetensors`), new Uint8Array(await saved.parts.state!.arrayBuffer()));
    }
    this.writeFile(join('checkpoints', 'index.json'), JSON.stringify(listed, null, 2));
    const keep = new Set(listed.map((i) => `${i.id}.safetensors`));
    for (const f of readdirSync(this.path('checkpoints'))) if (f.endsWith('.safetensors') && !keep.has(f)) rmSync(this.path('checkpoints', f));
  }

  // ---------------------------------------------------------------- loss log

  appendLog(name: LogName, line: Record<string, number>): void {
    const file = this.path(name);
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch (error) {
      throw explainWriteError(error, file);
    }
  }

  /** Keeps the log lines of steps up to `step` (a resumed run goes on from there; a new run passes -1: empty logs). */
  truncateLogs(step: number): void {
    for (const name of LOGS) this.truncateLog(name, step);
  }

  private truncateLog(name: LogName, step: number): void {
    const file = this.path(name);
    if (!existsSync(file)) return;
    // A line cut short by a killed process does not parse: it goes too.
    const stepOf = (line: string) => {
      try {
        return (JSON.parse(line) as { step: number }).step;
      } catch {
        return Infinity;
      }
    };
    const kept = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line && stepOf(line) <= step);
    writeFileAtomic(file, kept.map((l) => `${l}\n`).join(''));
  }
}
