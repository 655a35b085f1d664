/**
 * `npm run pretrain -- --stage vae-decoder`: fine-tunes the exported VAE's decoder on the cached latents with the
 * encoder frozen, so the UNet trained on those latents stays valid (see vaeDecoderTraining.ts). Export writes the
 * decoder into the model folder beside the unchanged encoder; scaling_factor stays as it is.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { STATE } from '../engine/optim/trainStep';
import { loadModelFolder } from '../model/folder';
import { nodeFolderReader } from '../model/nodeFolder';
import type { Float32Tensor } from '../model/safetensors';
import { loadCheckpoint } from './checkpoint';
import { loadDataset } from './dataset';
import { cachedLatents } from './latentCache';
import { tensorsOf, writeComponent } from './modelWriter';
import type { NodeEp } from './nodeSession';
import { batchIndices } from './stepRandom';
import { commandLineLoop, trainLoop, type StageOptions } from './trainLoop';
import { describeRuntime, trainRuntimeFor, type TrainEp } from './trainRuntimeFor';
import { compileVaeDecoderStep, isEncoderWeight, vaeDecoderFeeds } from './vaeDecoderTraining';
import { vaeCheckpointReport } from './vaeQuality';

export interface VaeDecoderStageOptions extends StageOptions {
  /** Side of the square pixel crop. */
  crop: number;
  latentNoise: number;
}

export async function runVaeDecoderStage(o: VaeDecoderStageOptions, trainEp: TrainEp, ep: NodeEp): Promise<void> {
  const ds = loadDataset(o.data);
  const model = await loadModelFolder(nodeFolderReader(o.model));
  const vae = model.vae;
  if (vae.weights.kind !== 'weights') {
    throw new Error(`${o.model} has no VAE weights: train and export the VAE first (npm run pretrain -- --stage vae, then --stage vae --export ${o.model})`);
  }
  const loaded = vae.weights.tensors;
  const f = 2 ** (vae.config.block_out_channels.length - 1);
  const dir = join(o.out, 'vae-decoder');
  const validation = ds.manifest.entries.flatMap((e, i) => (e.split === 'validation' ? [i] : []));
  const step = { batch: o.batch, crop: o.crop, latentNoise: o.latentNoise };
  const compiled = compileVaeDecoderStep(vae.config, vae.weights, step);
  const saved = loadCheckpoint(dir, compiled.layout);
  // The trained decoder beside the encoder as loaded.
  const weightsOf = (flat: Float32Array) => {
    const tensors = new Map<string, Float32Tensor>([...loaded].filter(([name]) => isEncoderWeight(name)));
    for (const [name, t] of tensorsOf(compiled.layout, flat)) tensors.set(name, t);
    return { kind: 'weights' as const, tensors };
  };

  if (o.export) {
    if (!saved) throw new Error(`no VAE decoder checkpoint in ${dir} to export`);
    const source = weightsOf(saved.state[STATE.params]!);
    writeComponent(o.export, 'vae', source.tensors, { step: String(saved.counters.step), decoder: 'fine-tuned, encoder frozen' });
    console.log(JSON.stringify({ exported: o.export, step: saved.counters.step }));
    return;
  }

  const set = await cachedLatents(o.data, o.model, ds, vae, ep, o.threads);
  const runtime = await trainRuntimeFor(trainEp, o.threads, [compiled.step], saved?.state ?? compiled.initialState);
  console.log(
    `VAE decoder: ${compiled.layout.size.toLocaleString('en')} parameters (encoder frozen), ${compiled.step.runtimeNodeCount} nodes per step on ${describeRuntime(runtime)}; ` +
      `${set.items.length} training items, ${o.crop}×${o.crop} crops, batch ${o.batch}; ${saved ? `resuming at step ${saved.counters.step}` : 'new run'}`,
  );
  const lr = o.lr ?? 2e-4;
  await trainLoop({
    runtime,
    layout: compiled.layout,
    dir,
    ...commandLineLoop(o, saved?.counters, lr),
    ema: null,
    feeds: (s) =>
      vaeDecoderFeeds(ds, set, vae.config.scaling_factor, o.seed, s, batchIndices(o.seed, s, o.batch, set.items.length), step, vae.config.latent_channels, f),
    settings: { stage: 'vae-decoder', ...step, lr, warmup: o.warmup, schedule: o.schedule, steps: o.steps, seed: o.seed, ep: trainEp },
    afterCheckpoint: (c) => vaeCheckpointReport(vae.config, weightsOf(c.state[STATE.params]!), ds, validation, dir, ep, o.threads),
  });
  await runtime.dispose();
  if (!existsSync(join(dir, 'latest.json'))) throw new Error('no checkpoint was written');
}
