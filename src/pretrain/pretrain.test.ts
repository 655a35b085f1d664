/**
 * Pretraining on tiny configurations of the built-in model's classes, through the same code `npm run pretrain`
 * runs (step compilation, per-step randomness, loop, checkpoints), on onnxruntime-node's CPU EP.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import builtinText from '../../models/builtin/text_encoder/config.json';
import builtinUnet from '../../models/builtin/unet/config.json';
import builtinVae from '../../models/builtin/vae/config.json';
import { buildNoiseSchedule } from '../diffusion/noiseSchedule';
import { resolveNoiseScheduleConfig } from '../diffusion/schedulerConfig';
import { STATE } from '../engine/optim/trainStep';
import { ProgramRuntime } from '../engine/runtime/programRuntime';
import { parseCLIPTextConfig, parseUNetConfig, parseVAEConfig } from '../model/config';
import { loadCheckpoint } from './checkpoint';
import type { DatasetEntry, LoadedDataset } from './dataset';
import { batchIndices } from './stepRandom';
import { trainLoop, pretrainRate } from './trainLoop';
import { compileUnetStep, unetFeeds, type LatentSet } from './unetTraining';
import type { EncodedItems } from './latentCache';
import { compileVaeDecoderStep, isEncoderWeight, vaeDecoderFeeds } from './vaeDecoderTraining';
import { compileVaeStep, vaeFeeds } from './vaeTraining';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'pretrain-test-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const tinyVae = parseVAEConfig({
  ...builtinVae,
  block_out_channels: [8, 16],
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D'],
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D'],
  norm_num_groups: 4,
  sample_size: 16,
});
const tinyUnet = parseUNetConfig({
  ...builtinUnet,
  block_out_channels: [16, 32],
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'],
  up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
  norm_num_groups: 8,
  cross_attention_dim: 16,
  sample_size: 4,
});
const tinyText = parseCLIPTextConfig({
  ...builtinText,
  hidden_size: 16,
  intermediate_size: 32,
  num_attention_heads: 2,
  num_hidden_layers: 1,
  projection_dim: 16,
  vocab_size: 32,
  max_position_embeddings: 8,
});

/** Eight 16×16 images of coloured squares on white, as the dataset stores them. */
function squares(): LoadedDataset {
  const size = 16;
  const count = 8;
  const pixels = new Uint8Array(count * size * size * 3).fill(255);
  for (let k = 0; k < count; k++) {
    const colour = [(k * 97) % 256, (k * 57 + 80) % 256, (k * 31 + 160) % 256];
    for (let y = 3 + (k % 3); y < 11 + (k % 3); y++)
      for (let x = 4; x < 12; x++) for (let c = 0; c < 3; c++) pixels[((k * size + y) * size + x) * 3 + c] = colour[c]!;
  }
  const entries: DatasetEntry[] = Array.from({ length: count }, (_, k) => ({
    source: 'noto',
    name: `square ${k}`,
    category: 'Symbols',
    subcategory: 'geometric',
    captions: [`square ${k}`],
    split: 'train',
    flippable: k % 2 === 0,
  }));
  return {
    pixels,
    manifest: {
      format: 'dreambooth-studio-pretraining-set',
      version: 1,
      size,
      images: 'x',
      count,
      sources: {},
      counts: { train: count, validation: 0, byCategory: {} },
      entries,
    },
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const losses = (dir: string) =>
  readFileSync(join(dir, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step?: number; loss?: number })
    .filter((l) => l.loss !== undefined);

describe('VAE pretraining step (tiny AutoencoderKL)', () => {
  const ds = squares();
  const opts = { batch: 4, crop: 8, klWeight: 1e-6 };
  const compiled = compileVaeStep(tinyVae, { kind: 'seeded', seed: 3 }, opts);
  const loop = async (runtime: ProgramRuntime, dir: string, totalSteps: number, start = { step: 0, seconds: 0 }) =>
    trainLoop({
      runtime,
      layout: compiled.layout,
      dir,
      totalSteps,
      minutes: Infinity,
      samplesPerStep: opts.batch,
      start,
      ema: null,
      checkpointMinutes: Infinity,
      learningRate: pretrainRate(3e-3, 5),
      maxGradNorm: 1,
      feeds: (s) => vaeFeeds(ds, 7, s, batchIndices(7, s, opts.batch, ds.manifest.count), opts, tinyVae.latent_channels, 2),
      settings: {},
      quiet: true,
    });

  test('reconstruction loss falls', async () => {
    const dir = tempDir();
    const runtime = await ProgramRuntime.create({ ep: 'cpu', threads: 2, programs: [compiled.step], state: compiled.initialState });
    await loop(runtime, dir, 40);
    await runtime.dispose();
    const l = losses(dir).map((x) => x.loss!);
    expect(l).toHaveLength(40);
    expect(mean(l.slice(-5))).toBeLessThan(0.5 * mean(l.slice(0, 5)));
  });

  test('a run stopped and resumed from its checkpoint equals an uninterrupted one, bit for bit', async () => {
    const [straight, split] = [tempDir(), tempDir()];
    const a = await ProgramRuntime.create({ ep: 'cpu', threads: 1, programs: [compiled.step], state: compiled.initialState });
    await loop(a, straight, 6);
    const b = await ProgramRuntime.create({ ep: 'cpu', threads: 1, programs: [compiled.step], state: compiled.initialState });
    await loop(b, split, 3);
    await b.dispose();
    const saved = loadCheckpoint(split, compiled.layout)!;
    expect(saved.counters.step).toBe(3);
    const c = await ProgramRuntime.create({ ep: 'cpu', threads: 1, programs: [compiled.step], state: saved.state });
    await loop(c, split, 6, saved.counters);
    expect(losses(split).map((x) => x.loss)).toEqual(losses(straight).map((x) => x.loss));
    const [pa, pc] = [(await a.exportState())[STATE.params]!, (await c.exportState())[STATE.params]!];
    expect(Buffer.from(pc.buffer).equals(Buffer.from(pa.buffer))).toBe(true);
    expect(loadCheckpoint(split, compiled.layout)!.state[STATE.params]).toEqual(pa);
    await a.dispose();
    await c.dispose();
  });

  test('a checkpoint of another configuration is refused with the parameter name', () => {
    const dir = tempDir();
    const other = compileVaeStep(parseVAEConfig({ ...tinyVae, block_out_channels: [8, 8] }), { kind: 'seeded', seed: 3 }, opts);
    return (async () => {
      const runtime = await ProgramRuntime.create({ ep: 'cpu', threads: 2, programs: [compiled.step], state: compiled.initialState });
      await loop(runtime, dir, 1);
      await runtime.dispose();
      expect(() => loadCheckpoint(dir, other.layout)).toThrow(/has \d+ values, the model needs \d+/);
    })();
  });
});

describe('VAE decoder fine-tune (tiny AutoencoderKL, encoder frozen)', () => {
  const ds = squares();
  const opts = { batch: 4, crop: 8 };
  const f = 2;
  const size = ds.manifest.size;
  const side = size / f;
  const scaling = 0.5;
  /**
   * Stand-in latents that record where they come from: channel c at (y, x) of item (image, flip) is scaling × the
   * pixel at (f·y, f·x) of channel c (of the mirrored image when flipped), in [-1, 1], for the first three channels.
   */
  const items = ds.manifest.entries.flatMap((e, i) =>
    e.flippable
      ? [
          { i, flip: false },
          { i, flip: true },
        ]
      : [{ i, flip: false }],
  );
  const perItem = tinyVae.latent_channels * side * side;
  const latents = new Float32Array(items.length * perItem);
  items.forEach(({ i, flip }, k) => {
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < side; y++)
        for (let x = 0; x < side; x++) {
          const sx = flip ? size - 1 - f * x : f * x;
          latents[k * perItem + (c * side + y) * side + x] = scaling * (ds.pixels[((i * size + f * y) * size + sx) * 3 + c]! / 127.5 - 1);
        }
  });
  const set: EncodedItems = { items, latents, perItem };
  const feeds = (s: number) => vaeDecoderFeeds(ds, set, scaling, 7, s, batchIndices(7, s, opts.batch, items.length), opts, tinyVae.latent_channels, f);

  test('each latent crop comes with the pixel crop it covers, mirrored images included', () => {
    const c = opts.crop / f;
    let flipped = 0;
    for (let s = 0; s < 20; s++) {
      const { latent, sample } = feeds(s);
      batchIndices(7, s, opts.batch, items.length).forEach((k, b) => {
        flipped += items[k]!.flip ? 1 : 0;
        for (let ch = 0; ch < 3; ch++)
          for (let y = 0; y < c; y++)
            for (let x = 0; x < c; x++) {
              const z = latent[((b * tinyVae.latent_channels + ch) * c + y) * c + x]!;
              expect(sample[((b * 3 + ch) * opts.crop + f * y) * opts.crop + f * x]).toBeCloseTo(z, 6);
            }
      });
    }
    expect(flipped).toBeGreaterThan(0);
  });

  test('latent noise moves each latent by σ (scaled units) around the same crop, and only the latent', () => {
    const sigma = 0.3;
    const noisy = (s: number) =>
      vaeDecoderFeeds(ds, set, scaling, 7, s, batchIndices(7, s, opts.batch, items.length), { ...opts, latentNoise: sigma }, tinyVae.latent_channels, f);
    const d: number[] = [];
    for (let s = 0; s < 20; s++) {
      const clean = feeds(s);
      const { latent, sample } = noisy(s);
      expect(sample).toEqual(clean.sample);
      latent.forEach((z, i) => d.push((z - clean.latent[i]!) * scaling));
    }
    expect(Math.abs(mean(d))).toBeLessThan(0.05 * sigma);
    expect(Math.sqrt(mean(d.map((x) => x * x)))).toBeCloseTo(sigma, 1);
  });

  test('only post_quant_conv and the decoder train, and the reconstruction loss falls', async () => {
    const compiled = compileVaeDecoderStep(tinyVae, { kind: 'seeded', seed: 3 }, opts);
    const names = compiled.layout.entries.map((e) => e.name);
    expect(names.some((n) => n.startsWith('decoder.'))).toBe(true);
    expect(names.some((n) => n.startsWith('post_quant_conv.'))).toBe(true);
    expect(names.filter(isEncoderWeight)).toEqual([]);
    const runtime = await ProgramRuntime.create({ ep: 'cpu', threads: 2, programs: [compiled.step], state: compiled.initialState });
    const dir = tempDir();
    await trainLoop({
      runtime,
      layout: compiled.layout,
      dir,
      totalSteps: 40,
      minutes: Infinity,
      samplesPerStep: opts.batch,
      start: { step: 0, seconds: 0 },
      ema: null,
      checkpointMinutes: Infinity,
      learningRate: pretrainRate(3e-3, 5, 'cosine', 40),
      maxGradNorm: 1,
      feeds,
      settings: {},
      quiet: true,
    });
    await runtime.dispose();
    const l = losses(dir).map((x) => x.loss!);
    expect(l).toHaveLength(40);
    expect(mean(l.slice(-5))).toBeLessThan(0.5 * mean(l.slice(0, 5)));
  });
});

describe('UNet + text encoder pretraining step (tiny UNet2DConditionModel and CLIPTextModel)', () => {
  test('the noise-prediction loss falls on a small captioned latent set', async () => {
    const L = tinyText.max_position_embeddings;
    const perItem = 4 * 4 * 4;
    const latents = Float32Array.from({ length: 4 * perItem }, (_, i) => Math.sin(i * 0.37) * (1 + Math.floor(i / perItem)));
    const caption = (k: number) => BigInt64Array.from({ length: L }, (_, i) => BigInt(i === 0 ? 0 : i === 1 ? 3 + k : 1));
    const set: LatentSet = { latents, perItem, captions: [0, 1, 2, 3].map((k) => [caption(k)]) };
    const empty = BigInt64Array.from({ length: L }, (_, i) => BigInt(i === 0 ? 0 : 1));
    const schedule = buildNoiseSchedule(
      resolveNoiseScheduleConfig({ num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' }).config,
    );
    const compiled = compileUnetStep(
      { config: tinyUnet, source: { kind: 'seeded', seed: 1 } },
      { config: tinyText, source: { kind: 'seeded', seed: 2 } },
      { batch: 4, latent: 4 },
    );
    const runtime = await ProgramRuntime.create({ ep: 'cpu', threads: 2, programs: [compiled.step], state: compiled.initialState });
    const dir = tempDir();
    const ema = compiled.initialState[STATE.params]!.slice();
    await trainLoop({
      runtime,
      layout: compiled.layout,
      dir,
      totalSteps: 60,
      minutes: Infinity,
      samplesPerStep: 4,
      start: { step: 0, seconds: 0 },
      ema: { decay: 0.99, every: 2, values: ema },
      checkpointMinutes: Infinity,
      learningRate: pretrainRate(2e-3, 5),
      maxGradNorm: 1,
      feeds: (s) => unetFeeds(set, empty, schedule, 5, s, batchIndices(5, s, 4, 4), 0.1),
      settings: {},
      quiet: true,
    });
    const l = losses(dir).map((x) => x.loss!);
    expect(mean(l.slice(-10))).toBeLessThan(0.7 * mean(l.slice(0, 10)));
    // The EMA moved away from the initialisation towards the trained weights.
    const params = (await runtime.exportState())[STATE.params]!;
    const init = compiled.initialState[STATE.params]!;
    const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));
    expect(dist(ema, init)).toBeGreaterThan(0);
    expect(dist(ema, params)).toBeLessThan(dist(init, params));
    expect(loadCheckpoint(dir, compiled.layout)!.ema).toEqual(ema);
    await runtime.dispose();
  });
});
