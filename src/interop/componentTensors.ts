/**
 * A component's weights by their diffusers / transformers names, whether the folder holds them or they are the
 * seeded initialisation (then materialised by building the component's graph, as the studio would run it).
 */
import type { ModelFolder } from '../model/folder';
import { buildTextEncoderGraph, buildUNetGraph, buildVAEDecoderGraph, buildVAEEncoderGraph } from '../model/graphs';
import type { Float32Tensor } from '../model/safetensors';

export type ComponentName = 'unet' | 'vae' | 'text_encoder';

export function componentTensors(folder: ModelFolder, part: ComponentName): ReadonlyMap<string, Float32Tensor> {
  const c = part === 'unet' ? folder.unet : part === 'vae' ? folder.vae : folder.textEncoder;
  if (c.weights.kind === 'weights') return c.weights.tensors;
  const graphs =
    part === 'unet'
      ? [buildUNetGraph(folder.unet.config, folder.unet.weights, { batch: 1, textLength: folder.textEncoder.config.max_position_embeddings })]
      : part === 'vae'
        ? [buildVAEEncoderGraph(folder.vae.config, folder.vae.weights, { batch: 1 }), buildVAEDecoderGraph(folder.vae.config, folder.vae.weights, { batch: 1 })]
        : [buildTextEncoderGraph(folder.textEncoder.config, folder.textEncoder.weights, { batch: 1 })];
  const out = new Map<string, Float32Tensor>();
  for (const { graph } of graphs) for (const p of graph.parameters()) out.set(p.tensor.name, { shape: [...p.tensor.shape], data: p.data as Float32Array });
  return out;
}
