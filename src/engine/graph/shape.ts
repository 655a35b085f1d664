import type { Shape } from './types';

/** Formats a shape for error messages. */
export function fmt(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Numpy broadcasting of two shapes; `what` names the op in the error. */
export function broadcastShapes(what: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${what}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast (dim ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Resolves a possibly negative axis against a rank, with a clear error. */
export function normAxis(what: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`${what}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Sorted, normalized, duplicate-checked axes. */
export function normAxes(what: string, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => normAxis(what, a, rank)).sort((x, y) => x - y);
  for (let i = 1; i < out.length; i++) if (out[i] === out[i - 1]) throw new Error(`${what}: duplicate axis ${out[i]}`);
  return out;
}

/** Spatial output size of a convolution along one axis. */
export function convOutDim(inSize: number, k: number, stride: number, padBegin: number, padEnd: number, dil: number): number {
  return Math.floor((inSize + padBegin + padEnd - dil * (k - 1) - 1) / stride) + 1;
}

/** Spatial output size of a transposed convolution along one axis. */
export function convTransposeOutDim(inSize: number, k: number, stride: number, padBegin: number, padEnd: number, dil: number, outputPadding: number): number {
  return stride * (inSize - 1) + outputPadding + (k - 1) * dil + 1 - padBegin - padEnd;
}
