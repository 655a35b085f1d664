/**
 * Trained values in the exact layout the studio's trainer produces (adapter names and shapes from applyLora over the
 * UNet with LORA_TARGET, as compileDreamBoothStep builds them), filled with seeded random numbers instead of
 * training, so file-format tests run in seconds.
 */
import { NoiseGenerator } from '../../diffusion/random';
import type { TrainedValues } from '../../dreambooth/personalizedModel';
import { IDENTIFIER_EMBEDDINGS, LORA_TARGET, UNET_PREFIX } from '../../dreambooth/trainGraph';
import { GraphBuilder } from '../../engine/graph';
import { applyLora } from '../../engine/lora/lora';
import type { ModelFolder } from '../../model/folder';
import { ModelParams } from '../../model/params';
import { unetForward } from '../../model/unet';

export function loraValues(folder: ModelFolder, o: { rank: number; alpha: number; seed: number; identifierRows?: number[] }): TrainedValues {
  const { unet, textEncoder } = folder;
  const c = unet.config;
  const g = new GraphBuilder('unet');
  const p = new ModelParams(g, unet.weights, { prefix: UNET_PREFIX });
  const size = c.sample_size ?? 8;
  unetForward(p, c, {
    sample: g.input('sample', 'float32', [1, c.in_channels, size, size]),
    timestep: g.input('timestep', 'float32', [1]),
    encoderHiddenStates: g.input('encoder_hidden_states', 'float32', [1, textEncoder.config.max_position_embeddings, c.cross_attention_dim]),
  });
  const { graph, adapters } = applyLora(g, { target: LORA_TARGET, rank: o.rank, alpha: o.alpha, seed: o.seed });
  const rng = new NoiseGenerator(o.seed);
  const tensors = new Map<string, Float32Array>();
  // Sizes from the rewritten graph's own parameters, so a layout change in applyLora shows up here.
  const sizes = new Map(graph.parameters().map((q) => [q.tensor.name, q.tensor.size]));
  for (const ad of adapters)
    for (const name of [ad.a, ad.b])
      tensors.set(
        name,
        rng.randn(sizes.get(name)!).map((v) => v * 0.05),
      );
  const identifierRows = o.identifierRows ?? [];
  if (identifierRows.length) tensors.set(IDENTIFIER_EMBEDDINGS, rng.randn(identifierRows.length * textEncoder.config.hidden_size));
  return { tensors, adapters, identifierRows };
}
