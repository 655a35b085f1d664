/**
 * onnxruntime's profiler output (Node only: ProgramRuntime with ep 'cpu' and `profileFilePrefix`). The trace is
 * chrome-trace JSON; each executed node is one event with `cat: 'Node'`, `dur` in µs and `args.op_name`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface ProfileEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly ts?: number;
  readonly dur?: number;
  readonly args?: { readonly op_name?: string };
}

export interface OpTime {
  readonly op: string;
  /** Summed kernel time over all profiled runs, ms. */
  readonly ms: number;
  /** Node executions (nodes × runs). */
  readonly count: number;
}

/** A node's kernel event. Only these count: fence/pre/post events would double-count. */
const isKernel = (e: ProfileEvent): e is ProfileEvent & { name: string; args: { op_name: string } } =>
  e.cat === 'Node' && Boolean(e.args?.op_name) && Boolean(e.name?.endsWith('_kernel_time'));

/** Kernel time per op type, largest first. */
export function opTimes(events: readonly ProfileEvent[]): OpTime[] {
  const acc = new Map<string, { us: number; count: number }>();
  for (const e of events) {
    if (!isKernel(e)) continue;
    const a = acc.get(e.args.op_name) ?? { us: 0, count: 0 };
    a.us += e.dur ?? 0;
    a.count++;
    acc.set(e.args.op_name, a);
  }
  return [...acc.entries()].map(([op, a]) => ({ op, ms: a.us / 1000, count: a.count })).sort((x, y) => y.ms - x.ms);
}

/** Which part of a train step a node belongs to, by the name scope the compiler gave it (`grad/…`, `adamw/…`). */
export type StepPart = 'forward' | 'backward' | 'optimizer';

/** Kernel ms per part of a train step; nodes outside the `grad` and `adamw` scopes count as the forward pass. */
export function partTimes(events: readonly ProfileEvent[]): Record<StepPart, number> {
  const out: Record<StepPart, number> = { forward: 0, backward: 0, optimizer: 0 };
  for (const e of events) {
    if (!isKernel(e)) continue;
    const part = e.name.startsWith('grad/') ? 'backward' : e.name.startsWith('adamw/') ? 'optimizer' : 'forward';
    out[part] += (e.dur ?? 0) / 1000;
  }
  return out;
}

/**
 * The events after the first `skip` session runs (`model_run`): the first run of a session allocates its memory and
 * warms caches, so a profile that counts it overstates ops that allocate large outputs.
 */
export function afterRuns(events: readonly ProfileEvent[], skip: number): ProfileEvent[] {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts! - b.ts!);
  if (runs.length <= skip) throw new Error(`the profile has ${runs.length} runs, ${skip} to skip`);
  if (skip === 0) return [...events];
  const end = runs[skip - 1]!.ts! + runs[skip - 1]!.dur!;
  return events.filter((e) => (e.ts ?? 0) > end);
}

/** The newest trace file onnxruntime wrote for `prefix` (`<prefix>_<timestamp>.json`), parsed. */
export function readProfile(prefix: string): ProfileEvent[] {
  const dir = dirname(prefix);
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${basename(prefix)}_`) && f.endsWith('.json'))
    .sort();
  if (!files.length) throw new Error(`no profile ${prefix}_*.json in ${dir}`);
  return JSON.parse(readFileSync(join(dir, files[files.length - 1]!), 'utf8')) as ProfileEvent[];
}
