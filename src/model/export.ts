import type { GraphBuilder } from '../engine/graph';
import { writeSafetensors, type Float32Tensor, type WriteOptions } from './safetensors';

/**
 * The parameters of a built graph as a state dict keyed by diffusers' / transformers' names
 * (`prefix`, if the graph's parameters carry one, is removed), in creation order.
 */
export function stateDict(g: GraphBuilder, prefix = ''): Map<string, Float32Tensor> {
  const out = new Map<string, Float32Tensor>();
  for (const p of g.parameters()) {
    const name = p.tensor.name;
    if (!name.startsWith(prefix)) continue;
    out.set(name.slice(prefix.length), { shape: [...p.tensor.shape], data: p.data as Float32Array });
  }
  return out;
}

/** A graph's parameters as a safetensors file that diffusers / transformers `from_pretrained` reads. */
export function exportSafetensors(g: GraphBuilder, options: WriteOptions & { prefix?: string } = {}): Uint8Array {
  return writeSafetensors(stateDict(g, options.prefix), options);
}
