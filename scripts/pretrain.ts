/**
 * Pretrains the built-in model on the emoji dataset with the project's own train-step graphs.
 *
 *   npm run pretrain -- --stage vae  [--minutes 60] [--batch 32] [--crop 32] …
 *   npm run pretrain -- --stage unet [--minutes 120] [--batch 32] …
 *   npm run pretrain -- --stage vae-decoder --steps 4000 --schedule cosine   (decoder fine-tune, encoder frozen)
 *   npm run pretrain -- --stage vae|vae-decoder|unet --export models/builtin   (write the checkpoint's weights into the model)
 *
 * Resumable: re-running the same command continues from checkpoints/<stage>/latest.json. Without a checkpoint the
 * run starts from the weights in --model (the committed built-in model) or, if it has none, from the seeded
 * initialisation. See models/builtin/README.md.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { STATE } from '../src/engine/optim/trainStep';
import { loadModelFolder } from '../src/model/folder';
import { nodeFolderReader } from '../src/model/nodeFolder';
import { loadCheckpoint } from '../src/pretrain/checkpoint';
import { loadDataset } from '../src/pretrain/dataset';
import { setConfigValue, tensorsOf, writeComponent } from '../src/pretrain/modelWriter';
import { fastestNodeEp } from '../src/pretrain/nodeSession';
import { batchIndices } from '../src/pretrain/stepRandom';
import { commandLineLoop, trainLoop, type StageOptions } from '../src/pretrain/trainLoop';
import { describeRuntime, trainRuntimeFor, type TrainEp } from '../src/pretrain/trainRuntimeFor';
import { measureVae, vaeCheckpointReport } from '../src/pretrain/vaeQuality';
import { compileVaeStep, vaeFeeds } from '../src/pretrain/vaeTraining';
import { runUnetStage } from '../src/pretrain/unetStage';
import { runVaeDecoderStage } from '../src/pretrain/vaeDecoderStage';

const program = new Command('pretrain')
  .description('pretrain the built-in model (resumable)')
  .addOption(new Option('--stage <stage>', 'what to train').choices(['vae', 'vae-decoder', 'unet']).makeOptionMandatory())
  .option('--data <dir>', 'dataset built by `npm run dataset`', 'data/emoji64')
  .option('--model <dir>', 'model folder: configs, and the weights a new run starts from', 'models/builtin')
  .option('--out <dir>', 'checkpoint folder (one subfolder per stage)', 'checkpoints')
  .option('--batch <n>', 'batch size', (v) => parseInt(v, 10), 32)
  .option('--crop <n>', 'VAE, VAE decoder: square training crop side', (v) => parseInt(v, 10), 32)
  .option('--lr <x>', 'peak learning rate (default: vae 5e-4, vae-decoder 2e-4, unet 3e-4)', parseFloat)
  .option('--warmup <n>', 'warm-up steps', (v) => parseInt(v, 10), 200)
  .addOption(
    new Option('--schedule <s>', 'learning rate after warm-up: constant, or cosine to 0 at --steps').choices(['constant', 'cosine']).default('constant'),
  )
  .option('--steps <n>', 'total optimizer steps of the run', (v) => parseInt(v, 10), 100_000)
  .option('--minutes <n>', 'stop this session after N minutes (checkpointed; re-run to continue)', parseFloat, Infinity)
  .option('--checkpoint-minutes <n>', 'minutes between checkpoints', parseFloat, 5)
  .option('--latent-noise <σ>', 'VAE decoder: std of Gaussian noise added to the scaled latents it learns to decode', parseFloat, 0)
  .option('--kl-weight <x>', 'VAE: weight of the KL term (per-element means)', parseFloat, 1e-6)
  .option('--drop-caption <p>', 'UNet: share of captions replaced by the empty prompt (for guidance)', parseFloat, 0.1)
  .option('--ema <decay>', 'UNet: EMA decay of the weights', parseFloat, 0.999)
  .option('--snr-gamma <γ>', "UNet: Min-SNR-γ loss weighting, as diffusers --snr_gamma (5 is the paper's value; default off)", parseFloat)
  .option('--seed <n>', 'run seed (data order, crops, noise)', (v) => parseInt(v, 10), 0)
  .addOption(
    new Option('--ep <ep>', 'training backend (default: native CPU if onnxruntime-node loads, else wasm; webgpu: Dawn on a GPU server)').choices([
      'cpu',
      'wasm',
      'webgpu',
    ]),
  )
  .option('--threads <n>', 'CPU threads', (v) => parseInt(v, 10), availableParallelism())
  .option('--export <dir>', 'write the latest checkpoint into this model folder and exit')
  .option('--quiet', 'no progress bar')
  .parse();

export type PretrainOptions = StageOptions & {
  stage: 'vae' | 'vae-decoder' | 'unet';
  crop: number;
  klWeight: number;
  latentNoise: number;
  dropCaption: number;
  ema: number;
  snrGamma?: number;
  ep?: TrainEp;
};
const o = program.opts<PretrainOptions>();
/** Inference (latents, validation, previews) runs on the fastest CPU backend; training where --ep says. */
const ep = await fastestNodeEp();
const trainEp: TrainEp = o.ep ?? ep;

if (o.stage === 'vae') await vaeStage();
else if (o.stage === 'vae-decoder') await runVaeDecoderStage(o, trainEp, ep);
else await runUnetStage(o, trainEp, ep);
// A WebGPU run keeps Dawn's timer alive: end explicitly once everything is written.
process.exit(0);

async function vaeStage(): Promise<void> {
  const ds = loadDataset(o.data);
  const model = await loadModelFolder(nodeFolderReader(o.model));
  const config = model.vae.config;
  const f = 2 ** (config.block_out_channels.length - 1);
  const dir = join(o.out, 'vae');
  const train = ds.manifest.entries.flatMap((e, i) => (e.split === 'train' ? [i] : []));
  const validation = ds.manifest.entries.flatMap((e, i) => (e.split === 'validation' ? [i] : []));
  const step = { batch: o.batch, crop: o.crop, klWeight: o.klWeight };
  const compiled = compileVaeStep(config, model.vae.weights, step);
  const saved = loadCheckpoint(dir, compiled.layout);
  const weightsOf = (flat: Float32Array) => ({ kind: 'weights' as const, tensors: tensorsOf(compiled.layout, flat) });

  if (o.export) {
    if (!saved) throw new Error(`no VAE checkpoint in ${dir} to export`);
    const source = weightsOf(saved.state[STATE.params]!);
    const q = await measureVae(
      config,
      source,
      ds,
      train.filter((_, i) => i % 8 === 0),
      ep,
      o.threads,
      0,
    );
    writeComponent(o.export, 'vae', source.tensors, { step: String(saved.counters.step) });
    const scaling = Number((1 / q.latentStd).toPrecision(5));
    setConfigValue(o.export, 'vae/config.json', 'scaling_factor', scaling);
    console.log(JSON.stringify({ exported: o.export, step: saved.counters.step, scaling_factor: scaling, latentStd: q.latentStd }));
    return;
  }

  const runtime = await trainRuntimeFor(trainEp, o.threads, [compiled.step], saved?.state ?? compiled.initialState);
  console.log(
    `VAE: ${compiled.layout.size.toLocaleString('en')} parameters, ${compiled.step.runtimeNodeCount} nodes per step on ${describeRuntime(runtime)}; ` +
      `${train.length} training images, ${o.crop}×${o.crop} crops, batch ${o.batch}; ${saved ? `resuming at step ${saved.counters.step}` : 'new run'}`,
  );
  mkdirSync(dir, { recursive: true });
  await trainLoop({
    runtime,
    layout: compiled.layout,
    dir,
    ...commandLineLoop(o, saved?.counters, o.lr ?? 5e-4),
    ema: null,
    feeds: (s) =>
      vaeFeeds(
        ds,
        o.seed,
        s,
        batchIndices(o.seed, s, o.batch, train.length).map((i) => train[i]!),
        step,
        config.latent_channels,
        f,
      ),
    settings: { stage: 'vae', ...step, lr: o.lr ?? 5e-4, warmup: o.warmup, schedule: o.schedule, seed: o.seed, ep: trainEp },
    afterCheckpoint: (c) => vaeCheckpointReport(config, weightsOf(c.state[STATE.params]!), ds, validation, dir, ep, o.threads),
  });
  await runtime.dispose();
  if (!existsSync(join(dir, 'latest.json'))) throw new Error('no checkpoint was written');
}
