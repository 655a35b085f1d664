/**
 * Pretraining checkpoints on disk: trainable weights by name, AdamW moments and the EMA as flat vectors, and the
 * run's counters. A checkpoint is written as a new file, then `latest.json` is replaced through a rename, so an
 * interrupted write never damages the last good checkpoint; older files are removed only after that. Node only.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ParamLayout } from '../engine/optim/flatParams';
import { STATE } from '../engine/optim/trainStep';
import { writeFileAtomic } from '../cli/atomicFile';
import { readSafetensors, writeSafetensors, type Float32Tensor } from '../model/safetensors';

export interface RunCounters {
  /** Optimizer steps done. */
  step: number;
  /** Training seconds so far, over every session of the run. */
  seconds: number;
}

export interface Checkpoint {
  counters: RunCounters;
  /** The runtime's state tensors (train.params, adam.m, adam.v). */
  state: Record<string, Float32Array>;
  /** Exponential moving average of train.params, when the run keeps one. */
  ema: Float32Array | null;
  /** The run's settings when it was saved, for the log and the model card. */
  settings: Record<string, unknown>;
}

const LATEST = 'latest.json';
const EMA = 'ema';

export function saveCheckpoint(dir: string, layout: ParamLayout, c: Checkpoint): string {
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, Float32Tensor>();
  const params = c.state[STATE.params]!;
  for (const e of layout.entries) tensors.set(e.name, { shape: [...e.shape], data: params.subarray(e.offset, e.offset + e.size) });
  for (const name of [STATE.m, STATE.v]) tensors.set(name, { shape: [layout.size], data: c.state[name]! });
  if (c.ema) tensors.set(EMA, { shape: [layout.size], data: c.ema });
  const file = `step-${String(c.counters.step).padStart(7, '0')}.safetensors`;
  writeFileAtomic(join(dir, file), writeSafetensors(tensors, { metadata: { format: 'pt' } }));
  writeFileAtomic(join(dir, LATEST), JSON.stringify({ file, ...c.counters, settings: c.settings }, null, 2));
  for (const f of readdirSync(dir)) if (f !== file && /^step-\d+\.safetensors(\.tmp)?$/.test(f)) rmSync(join(dir, f));
  return join(dir, file);
}

/** The last good checkpoint in `dir`, or null when the run has none yet. Refuses one saved for other parameters. */
export function loadCheckpoint(dir: string, layout: ParamLayout): Checkpoint | null {
  if (!existsSync(join(dir, LATEST))) return null;
  const latest = JSON.parse(readFileSync(join(dir, LATEST), 'utf8')) as RunCounters & { file: string; settings: Record<string, unknown> };
  const tensors = readSafetensors(readFileSync(join(dir, latest.file)));
  const params = new Float32Array(layout.size);
  for (const e of layout.entries) {
    const t = tensors.get(e.name);
    if (!t) throw new Error(`${dir}/${latest.file} has no ${e.name}: it belongs to another model configuration`);
    if (t.data.length !== e.size) throw new Error(`${dir}/${latest.file}: ${e.name} has ${t.data.length} values, the model needs ${e.size}`);
    params.set(t.data, e.offset);
  }
  const flat = (name: string) => {
    const t = tensors.get(name);
    if (!t || t.data.length !== layout.size) throw new Error(`${dir}/${latest.file}: ${name} is missing or has the wrong length`);
    return t.data;
  };
  return {
    counters: { step: latest.step, seconds: latest.seconds },
    state: { [STATE.params]: params, [STATE.m]: flat(STATE.m), [STATE.v]: flat(STATE.v) },
    ema: tensors.has(EMA) ? flat(EMA) : null,
    settings: latest.settings,
  };
}
