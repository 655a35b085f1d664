import { readFileSync } from 'node:fs';
import type { TensorData } from '../../engine/graph';
import { readSafetensors } from '../safetensors';
import type { WeightSource } from '../params';

/** Reads a file of fixtures/diffusers-tiny-sd (diffusers' tiny SD test components). */
export function fixtureBytes(path: string): Uint8Array {
  return readFileSync(new URL(`../../../fixtures/diffusers-tiny-sd/${path}`, import.meta.url));
}

export function fixtureJson(path: string): unknown {
  return JSON.parse(new TextDecoder().decode(fixtureBytes(path)));
}

/** The component's safetensors file as a weight source. */
export function fixtureWeights(path: string): WeightSource {
  return { kind: 'weights', tensors: readSafetensors(fixtureBytes(path), (n) => n.endsWith('position_ids')) };
}

interface RefTensor {
  dtype?: string;
  shape: number[];
  data: number[];
}
/** reference_io.json: per component, PyTorch's inputs and outputs (flattened row-major). */
export type ReferenceIO = Record<string, { inputs: Record<string, RefTensor>; outputs: Record<string, RefTensor> }>;

export function referenceIO(): ReferenceIO {
  return fixtureJson('reference_io.json') as ReferenceIO;
}

/** A reference tensor as the typed array a graph input of `dtype` takes. */
export function asInput(t: RefTensor, dtype: 'float32' | 'int64'): TensorData {
  return dtype === 'int64' ? BigInt64Array.from(t.data, (v) => BigInt(v)) : Float32Array.from(t.data);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
