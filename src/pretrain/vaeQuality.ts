/**
 * VAE quality on whole 64×64 images: reconstruction PSNR (posterior mean → decoder, 8-bit output as the studio
 * shows it) and the latent standard deviation that sets `scaling_factor` (Stable Diffusion's 0.18215 = 1/std of
 * its VAE's latents). Node only.
 */
import { join } from 'node:path';
import { buildVAEDecoderGraph, buildVAEEncoderGraph } from '../model/graphs';
import type { VAEConfig } from '../model/config';
import type { WeightSource } from '../model/params';
import { cropBatch } from './vaeTraining';
import type { LoadedDataset } from './dataset';
import { writeGrid } from './imageGrid';
import { NodeSession, type NodeEp } from './nodeSession';

const BATCH = 16;

export interface VaeQuality {
  psnr: number;
  images: number;
  /** Standard deviation of the posterior means over the images (unscaled latents). */
  latentStd: number;
  /** Original and reconstruction tiles (RGB uint8) of the first few images, for grids. */
  tiles: Uint8Array[];
}

export const toRgb8 = (chw: Float32Array, size: number, offset = 0): Uint8Array => {
  const out = new Uint8Array(size * size * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < size * size; i++) {
      out[i * 3 + c] = Math.max(0, Math.min(255, Math.round((chw[offset + c * size * size + i]! + 1) * 127.5)));
    }
  }
  return out;
};

export async function measureVae(
  config: VAEConfig,
  source: WeightSource,
  ds: LoadedDataset,
  indices: readonly number[],
  ep: NodeEp,
  threads: number,
  tilesWanted = 8,
): Promise<VaeQuality> {
  const size = ds.manifest.size;
  const f = 2 ** (config.block_out_channels.length - 1);
  const enc = await NodeSession.open(buildVAEEncoderGraph(config, source, { batch: BATCH, height: size, width: size }).graph, ep, threads);
  const dec = await NodeSession.open(buildVAEDecoderGraph(config, source, { batch: BATCH, height: size / f, width: size / f }).graph, ep, threads);
  let sqErr = 0;
  let sum = 0;
  let sumSq = 0;
  let count = 0;
  const tiles: Uint8Array[] = [];
  for (let at = 0; at < indices.length; at += BATCH) {
    const chunk = indices.slice(at, at + BATCH);
    const batch = [...chunk, ...Array<number>(BATCH - chunk.length).fill(chunk[0]!)];
    const x = cropBatch(
      ds,
      batch,
      batch.map(() => ({ x: 0, y: 0, flip: false })),
      size,
    );
    const { latent_mean: mean } = await enc.run({ sample: x });
    const { sample: rec } = await dec.run({ latent_sample: mean! });
    const per = 3 * size * size;
    const lat = mean!.length / BATCH;
    chunk.forEach((img, b) => {
      const orig = ds.pixels.subarray(img * per, (img + 1) * per);
      const out = toRgb8(rec!, size, b * per);
      for (let i = 0; i < per; i++) sqErr += (out[i]! - orig[i]!) ** 2;
      for (let i = b * lat; i < (b + 1) * lat; i++) {
        sum += mean![i]!;
        sumSq += mean![i]! ** 2;
      }
      if (tiles.length < 2 * tilesWanted) tiles.push(orig, out);
    });
    count += chunk.length;
  }
  await enc.release();
  await dec.release();
  const mse = sqErr / (count * 3 * size * size);
  const latCount = count * config.latent_channels * (size / f) ** 2;
  const m = sum / latCount;
  return { psnr: 10 * Math.log10((255 * 255) / mse), images: count, latentStd: Math.sqrt(sumSq / latCount - m * m), tiles };
}

/**
 * What a VAE stage logs at each checkpoint: PSNR and latent std on a quarter of the validation split (under a minute;
 * `npm run eval:base` measures all of it), with a grid of reconstructions written into the checkpoint folder.
 */
export async function vaeCheckpointReport(
  config: VAEConfig,
  source: WeightSource,
  ds: LoadedDataset,
  validation: readonly number[],
  dir: string,
  ep: NodeEp,
  threads: number,
): Promise<{ validation_psnr: number; latent_std: number }> {
  const q = await measureVae(
    config,
    source,
    ds,
    validation.filter((_, i) => i % 4 === 0),
    ep,
    threads,
  );
  writeGrid(join(dir, 'reconstructions.png'), q.tiles, ds.manifest.size, 8);
  return { validation_psnr: Number(q.psnr.toFixed(2)), latent_std: Number(q.latentStd.toFixed(4)) };
}
