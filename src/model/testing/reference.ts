import type { TensorData } from '../../engine/graph';

/**
 * fixtures/diffusers-tiny-sd/reference_io.json: PyTorch's inputs and outputs per component. No Node
 * imports here, so the browser harness (e2e/harness/model.ts) compares against it the same way.
 */
interface RefTensor {
  dtype?: string;
  shape: number[];
  data: number[];
}
/** Per component, PyTorch's inputs and outputs (flattened row-major). */
export type ReferenceIO = Record<string, { inputs: Record<string, RefTensor>; outputs: Record<string, RefTensor> }>;

/** A reference tensor as the typed array a graph input of `dtype` takes. */
export function asInput(t: RefTensor, dtype: 'float32' | 'int64'): TensorData {
  return dtype === 'int64' ? BigInt64Array.from(t.data, (v) => BigInt(v)) : Float32Array.from(t.data);
}

export { maxAbsDiff } from '../../testing/numeric';
