/**
 * `npm run pretrain -- --stage unet`: the text encoder and UNet trained jointly on cached VAE latents of the
 * dataset. Needs the VAE stage exported into the model folder first (its latents are what the UNet learns).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildNoiseSchedule } from '../diffusion/noiseSchedule';
import { parseSchedulerConfigJson, resolveNoiseScheduleConfig } from '../diffusion/schedulerConfig';
import { STATE } from '../engine/optim/trainStep';
import { VOCABULARY_FILE, type ModelSource } from '../generation/generationModel';
import { loadModelFolder, WEIGHT_FILES, type ModelFolder } from '../model/folder';
import { nodeFolderReader } from '../model/nodeFolder';
import { writeSafetensors, type Float32Tensor } from '../model/safetensors';
import { ClipTokenizer } from '../text/clipTokenizer';
import { CompactVocabulary } from '../text/compactVocabulary';
import { loadCheckpoint } from './checkpoint';
import { loadDataset, type LoadedDataset } from './dataset';
import { writeGrid } from './imageGrid';
import { tensorsOf, writeComponent, writeJson } from './modelWriter';
import { cachedLatents } from './latentCache';
import type { NodeEp } from './nodeSession';
import { PREVIEW_SETTINGS, samplePrompts } from './sampling';
import { batchIndices } from './stepRandom';
import { commandLineLoop, trainLoop, type StageOptions } from './trainLoop';
import { describeRuntime, trainRuntimeFor, type TrainEp } from './trainRuntimeFor';
import { TEXT_PREFIX, UNET_PREFIX, compileUnetStep, unetFeeds, type LatentSet } from './unetTraining';

/** Rows kept free in the text encoder's embedding table for subject identifiers (DreamBooth's ⟨id⟩). */
const RESERVED_IDENTIFIER_ROWS = 16;
/** Prompts of the sample grid written at each checkpoint. */
export const PREVIEW_PROMPTS = ['a photo of a dog', 'a photo of a cat', 'a red apple', 'a teapot', 'a backpack', 'a robot', 'a teddy bear', 'a clock'] as const;

export interface UnetStageOptions extends StageOptions {
  dropCaption: number;
  ema: number;
  /** Min-SNR-γ loss weighting (off when undefined). */
  snrGamma?: number;
}

/** The model's compact vocabulary, made from the dataset's captions the first time and kept in the model folder after. */
function vocabularyFor(o: UnetStageOptions, ds: LoadedDataset, vocabSize: number): CompactVocabulary {
  const path = join(o.model, VOCABULARY_FILE);
  if (existsSync(path)) return CompactVocabulary.fromJSON(JSON.parse(readFileSync(path, 'utf8')));
  const vocab = CompactVocabulary.fromTexts(
    ds.manifest.entries.flatMap((e) => e.captions),
    ClipTokenizer.shared(),
    RESERVED_IDENTIFIER_ROWS,
  );
  if (vocab.rowCount > vocabSize)
    throw new Error(`the captions need ${vocab.rowCount} embedding rows but text_encoder/config.json has vocab_size ${vocabSize}`);
  writeJson(o.model, VOCABULARY_FILE, vocab.toJSON());
  return vocab;
}

/** The cached latents with each item's captions as token rows. */
async function latentSet(o: UnetStageOptions, ds: LoadedDataset, model: ModelFolder, vocab: CompactVocabulary, ep: NodeEp): Promise<LatentSet> {
  const { items, latents, perItem } = await cachedLatents(o.data, o.model, ds, model.vae, ep, o.threads);
  const clip = ClipTokenizer.shared();
  const L = model.textEncoder.config.max_position_embeddings;
  const rows = (text: string) => BigInt64Array.from(vocab.tokenize(text, clip, L).ids, (v) => BigInt(v));
  const byImage = new Map<number, BigInt64Array[]>();
  const captions = items.map(({ i }) => {
    let c = byImage.get(i);
    if (!c) byImage.set(i, (c = ds.manifest.entries[i]!.captions.map(rows)));
    return c;
  });
  return { latents, perItem, captions };
}

export async function runUnetStage(o: UnetStageOptions, trainEp: TrainEp, ep: NodeEp): Promise<void> {
  const ds = loadDataset(o.data);
  const model = await loadModelFolder(nodeFolderReader(o.model));
  if (model.vae.untrained) {
    throw new Error(`${o.model} has no VAE weights: train and export the VAE first (npm run pretrain -- --stage vae, then --stage vae --export ${o.model})`);
  }
  const dir = join(o.out, 'unet');
  const unet = model.unet;
  const text = model.textEncoder;
  const latent = unet.config.sample_size!;
  const compiled = compileUnetStep({ config: unet.config, source: unet.weights }, { config: text.config, source: text.weights }, { batch: o.batch, latent });
  const saved = loadCheckpoint(dir, compiled.layout);
  const componentsOf = (flat: Float32Array) => ({ unet: tensorsOf(compiled.layout, flat, UNET_PREFIX), text: tensorsOf(compiled.layout, flat, TEXT_PREFIX) });

  if (o.export) {
    if (!saved) throw new Error(`no UNet checkpoint in ${dir} to export`);
    const c = componentsOf(saved.ema ?? saved.state[STATE.params]!);
    const meta = { step: String(saved.counters.step), weights: saved.ema ? 'ema' : 'raw' };
    writeComponent(o.export, 'unet', c.unet, meta);
    writeComponent(o.export, 'text_encoder', c.text, meta);
    if (o.export !== o.model) writeJson(o.export, VOCABULARY_FILE, JSON.parse(readFileSync(join(o.model, VOCABULARY_FILE), 'utf8')));
    console.log(JSON.stringify({ exported: o.export, step: saved.counters.step, weights: meta.weights }));
    return;
  }

  const vocab = vocabularyFor(o, ds, text.config.vocab_size);
  const set = await latentSet(o, ds, model, vocab, ep);
  const items = set.captions.length;
  const schedulerJson = parseSchedulerConfigJson(readFileSync(join(o.model, 'scheduler/scheduler_config.json'), 'utf8'));
  const schedule = buildNoiseSchedule(resolveNoiseScheduleConfig(schedulerJson).config);
  const emptyPrompt = BigInt64Array.from(vocab.tokenize('', ClipTokenizer.shared(), text.config.max_position_embeddings).ids, (v) => BigInt(v));
  const runtime = await trainRuntimeFor(trainEp, o.threads, [compiled.step], saved?.state ?? compiled.initialState);
  const ema = saved?.ema ?? compiled.initialState[STATE.params]!.slice();
  console.log(
    `UNet + text encoder: ${compiled.layout.size.toLocaleString('en')} parameters, ${compiled.step.runtimeNodeCount} nodes per step on ${describeRuntime(runtime)}; ` +
      `${items} training items (${vocab.rowCount} vocabulary rows), batch ${o.batch}; ${saved ? `resuming at step ${saved.counters.step}` : 'new run'}`,
  );
  const lr = o.lr ?? 3e-4;
  await trainLoop({
    runtime,
    layout: compiled.layout,
    dir,
    ...commandLineLoop(o, saved?.counters, lr),
    ema: { decay: o.ema, every: 4, values: ema },
    feeds: (s) => unetFeeds(set, emptyPrompt, schedule, o.seed, s, batchIndices(o.seed, s, o.batch, items), o.dropCaption, o.snrGamma),
    settings: {
      stage: 'unet',
      batch: o.batch,
      lr,
      warmup: o.warmup,
      schedule: o.schedule,
      dropCaption: o.dropCaption,
      ema: o.ema,
      snrGamma: o.snrGamma ?? null,
      seed: o.seed,
      ep: trainEp,
    },
    afterCheckpoint: async (c) => {
      const tiles = await samplePrompts(withWeights(o.model, componentsOf(c.ema!), `ema-${c.counters.step}`), PREVIEW_PROMPTS, 2, 1, {
        ...PREVIEW_SETTINGS,
        threads: o.threads,
      });
      writeGrid(join(dir, 'samples.png'), tiles.flat(), ds.manifest.size, 8);
      writeGrid(join(dir, `samples-${String(c.counters.step).padStart(7, '0')}.png`), tiles.flat(), ds.manifest.size, 8);
      return { preview: 'samples.png' };
    },
  });
  await runtime.dispose();
}

/** The model folder with the UNet and text encoder weights replaced in memory (for previews; nothing written). */
export function withWeights(modelDir: string, c: { unet: Map<string, Float32Tensor>; text: Map<string, Float32Tensor> }, revision: string): ModelSource {
  const base = nodeFolderReader(modelDir);
  const files = new Map<string, Uint8Array>([
    [WEIGHT_FILES.unet, writeSafetensors(c.unet)],
    [WEIGHT_FILES.text_encoder, writeSafetensors(c.text)],
  ]);
  return { id: 'pretraining', revision, read: async (path) => files.get(path) ?? base(path) };
}
