/**
 * The VAE decoder fine-tune (as Stability's sd-vae-ft-mse): the encoder stays frozen, so latents — and the UNet
 * trained on them — stay valid, while post_quant_conv and the decoder learn to reconstruct the images from the
 * cached posterior means; loss = pixel MSE. Trains on random latent crops and the pixel crops they cover.
 */
import { GraphBuilder } from '../engine/graph';
import { compileTrainStep, type CompiledTrainStep } from '../engine/optim/trainStep';
import type { VAEConfig } from '../model/config';
import { ModelParams, type WeightSource } from '../model/params';
import { vaeDecode } from '../model/vae';
import type { LoadedDataset } from './dataset';
import type { EncodedItems } from './latentCache';
import { stepGenerator } from './stepRandom';
import { cropBatch } from './vaeTraining';

export interface VaeDecoderStepOptions {
  batch: number;
  /** Side of the square pixel crop (a multiple of the VAE's downsampling factor). */
  crop: number;
  /**
   * Standard deviation of Gaussian noise added to each scaled latent (unit-variance units). The UNet's samples land
   * near the encoder's means, not on them; a decoder that only ever saw exact means decodes them worse. 0: none.
   */
  latentNoise?: number;
}

/** Weights the decoder never reads; they stay as loaded. */
export const isEncoderWeight = (name: string) => name.startsWith('encoder.') || name.startsWith('quant_conv.');

export function compileVaeDecoderStep(config: VAEConfig, source: WeightSource, o: VaeDecoderStepOptions): CompiledTrainStep {
  const g = new GraphBuilder('vae_decoder_finetune');
  const p = new ModelParams(g, source, { group: () => 'trainable' });
  const f = 2 ** (config.block_out_channels.length - 1);
  const z = g.input('latent', 'float32', [o.batch, config.latent_channels, o.crop / f, o.crop / f]);
  const x = g.input('sample', 'float32', [o.batch, config.in_channels, o.crop, o.crop]);
  const rec = vaeDecode(p, config, z);
  p.check('vae decoder weights', isEncoderWeight);
  const d = g.sub(rec, x);
  return compileTrainStep(g, g.reduceMean(g.mul(d, d), [0, 1, 2, 3], false), { adamw: { weightDecay: 0 } });
}

/**
 * Feeds of decoder step `step`: for each item a random latent crop (unscaled, as the decoder reads latents) and
 * the pixel crop it covers, mirrored where the item's latent is of the mirrored image; plus `latentNoise`.
 */
export function vaeDecoderFeeds(
  ds: LoadedDataset,
  set: EncodedItems,
  scalingFactor: number,
  seed: number,
  step: number,
  indices: readonly number[],
  o: VaeDecoderStepOptions,
  latentChannels: number,
  factor: number,
) {
  const g = stepGenerator(seed, 'vae-decoder-batch', step);
  const size = ds.manifest.size;
  const side = size / factor;
  const c = o.crop / factor;
  const latent = new Float32Array(indices.length * latentChannels * c * c);
  const noise = o.latentNoise ? stepGenerator(seed, 'vae-decoder-noise', step).randn(latent.length) : null;
  const crops = indices.map((k, b) => {
    const lx = g.nextUint32() % (side - c + 1);
    const ly = g.nextUint32() % (side - c + 1);
    for (let ch = 0; ch < latentChannels; ch++) {
      for (let y = 0; y < c; y++) {
        for (let x = 0; x < c; x++) {
          const at = ((b * latentChannels + ch) * c + y) * c + x;
          const z = set.latents[k * set.perItem + (ch * side + ly + y) * side + lx + x]!;
          latent[at] = (noise ? z + o.latentNoise! * noise[at]! : z) / scalingFactor;
        }
      }
    }
    // Column X of the mirrored image is column size-1-X of the image: its crop at f·lx is the image's crop at size-f·lx-crop, mirrored.
    const { flip } = set.items[k]!;
    return { x: flip ? size - factor * lx - o.crop : factor * lx, y: factor * ly, flip };
  });
  return {
    latent,
    sample: cropBatch(
      ds,
      indices.map((k) => set.items[k]!.i),
      crops,
      o.crop,
    ),
  };
}
