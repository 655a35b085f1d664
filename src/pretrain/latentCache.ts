/**
 * Scaled VAE posterior means of every training image, and of its mirror image where a flip keeps the captions
 * true: what the UNet learns to generate and what the decoder fine-tune learns to decode. Encoded once per VAE
 * and cached beside the dataset. Node only.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { ModelFolder } from '../model/folder';
import { WEIGHT_FILES } from '../model/folder';
import { buildVAEEncoderGraph } from '../model/graphs';
import type { LoadedDataset } from './dataset';
import { NodeSession, type NodeEp } from './nodeSession';
import { cropBatch } from './vaeTraining';

export interface EncodedItems {
  /** Dataset image and whether its latent is of the mirrored image, per item. */
  items: { i: number; flip: boolean }[];
  /** Posterior means × scaling_factor, `perItem` values per item. */
  latents: Float32Array;
  perItem: number;
}

export async function cachedLatents(
  dataDir: string,
  modelDir: string,
  ds: LoadedDataset,
  vae: ModelFolder['vae'],
  ep: NodeEp,
  threads: number,
): Promise<EncodedItems> {
  const size = ds.manifest.size;
  const f = 2 ** (vae.config.block_out_channels.length - 1);
  const perItem = vae.config.latent_channels * (size / f) ** 2;
  const items = ds.manifest.entries.flatMap((e, i) =>
    e.split !== 'train'
      ? []
      : e.flippable
        ? [
            { i, flip: false },
            { i, flip: true },
          ]
        : [{ i, flip: false }],
  );
  const vaeBytes = readFileSync(join(modelDir, WEIGHT_FILES.vae));
  const key = createHash('sha256').update(vaeBytes).update(JSON.stringify(vae.config)).update(String(ds.manifest.count)).digest('hex').slice(0, 16);
  const cache = join(dataDir, `latents-${key}.f32`);
  const cached = existsSync(cache) ? readFileSync(cache) : null;
  if (cached?.length === items.length * perItem * 4) {
    return { items, perItem, latents: new Float32Array(cached.buffer.slice(cached.byteOffset, cached.byteOffset + cached.length)) };
  }
  const BATCH = 16;
  const enc = await NodeSession.open(buildVAEEncoderGraph(vae.config, vae.weights, { batch: BATCH, height: size, width: size }).graph, ep, threads);
  const latents = new Float32Array(items.length * perItem);
  const bar = new SingleBar({ format: 'encoding latents {bar} {value}/{total} | ETA {eta_formatted}', noTTYOutput: true, notTTYSchedule: 30_000 });
  bar.start(items.length, 0);
  for (let at = 0; at < items.length; at += BATCH) {
    const chunk = items.slice(at, at + BATCH);
    const padded = [...chunk, ...Array(BATCH - chunk.length).fill(chunk[0])] as typeof chunk;
    const x = cropBatch(
      ds,
      padded.map((c) => c.i),
      padded.map((c) => ({ x: 0, y: 0, flip: c.flip })),
      size,
    );
    const { latent_mean: mean } = await enc.run({ sample: x });
    for (let b = 0; b < chunk.length; b++) {
      for (let k = 0; k < perItem; k++) latents[(at + b) * perItem + k] = mean![b * perItem + k]! * vae.config.scaling_factor;
    }
    bar.update(Math.min(at + BATCH, items.length));
  }
  bar.stop();
  await enc.release();
  writeFileSync(cache, new Uint8Array(latents.buffer));
  return { items, perItem, latents };
}
