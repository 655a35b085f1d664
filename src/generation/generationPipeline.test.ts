import { decode as decodePng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScheduler } from '../diffusion/createScheduler';
import { combineGuidedOutput } from '../diffusion/guidance';
import { NoiseGenerator, randnForBatch } from '../diffusion/random';
import { createWasmSession, runSession } from '../engine/graph/runWasm';
import { parseInfotext } from '../export/infotext';
import { readPngParameters } from '../export/pngImage';
import { buildTextEncoderGraph, buildUNetGraph, buildVAEDecoderGraph } from '../model/graphs';
import { JobError } from '../protocol/jobs';
import { builtinModelSource, loadGenerationModel, type GenerationModel } from './generationModel';
import { GenerationPipeline } from './generationPipeline';
import { checkGenerateRequest, resolveGenerateRequest } from './generateRequest';
import type { GenerateProgress, GenerateRequest } from './jobTypes';
import { maxAbsDiff } from '../testing/numeric';

let model: GenerationModel;
let pipeline: GenerationPipeline;

beforeAll(async () => {
  model = await loadGenerationModel(builtinModelSource());
  pipeline = await GenerationPipeline.create(model, { preference: 'wasm' });
}, 120_000);
afterAll(async () => {
  await pipeline?.dispose();
});

const base: GenerateRequest = { prompt: 'a photo of a dog', sampler: 'ddim', steps: 2, guidanceScale: 7.5, seed: 3, numImages: 1 };
const resolve = (r: Partial<GenerateRequest>) => resolveGenerateRequest(checkGenerateRequest({ ...base, ...r }), model);
const pixels = (png: ArrayBuffer) => decodePng(new Uint8Array(png)).data as Uint8Array;

describe('GenerationPipeline on the wasm EP (built-in model, seeded weights)', () => {
  it('reports the backend it really used', () => {
    expect(pipeline.backend.report).toMatchObject({ ep: 'wasm', kind: 'cpu', requested: 'wasm' });
    expect(pipeline.backend.report.detail).toBeUndefined();
  });

  it('is reproducible: the same seed gives the same image, another seed another image, and batching does not change an image', async () => {
    const a = await pipeline.generate(resolve({ seed: 3 }));
    const b = await pipeline.generate(resolve({ seed: 3 }));
    const c = await pipeline.generate(resolve({ seed: 4 }));
    expect(new Uint8Array(b.images[0]!.png)).toEqual(new Uint8Array(a.images[0]!.png));
    expect(pixels(c.images[0]!.png)).not.toEqual(pixels(a.images[0]!.png));
    // Two images in one batch: image i uses seed + i and equals that seed generated alone.
    const pair = await pipeline.generate(resolve({ seed: 3, numImages: 2 }));
    expect(pair.seeds).toEqual([3, 4]);
    const diff = maxAbsDiff(pixels(pair.images[1]!.png), pixels(c.images[0]!.png));
    expect(diff).toBeLessThanOrEqual(1); // float32 sums in another batch layout: at most one 8-bit level
    // More images than maxBatch: batches of 2 then 1, progress says which images each step is for.
    const events: GenerateProgress[] = [];
    const three = await pipeline.generate(resolve({ seed: 3, numImages: 3, maxBatch: 2 }), { onProgress: (p) => events.push(p) });
    expect(three.seeds).toEqual([3, 4, 5]);
    expect(maxAbsDiff(pixels(three.images[0]!.png), pixels(a.images[0]!.png))).toBeLessThanOrEqual(1);
    const denoising = events.filter((e) => e.stage === 'denoising' && e.step > 0);
    expect(denoising.map((e) => [e.imageIndex, e.imageCount, e.step])).toEqual([
      [0, 2, 1],
      [0, 2, 2],
      [2, 1, 1],
      [2, 1, 2],
    ]);
    expect(denoising.at(-1)!.etaMs).toBe(0);
  });

  it('batches the guided and unguided passes into one UNet call that equals two separate passes and the JS sampler', async () => {
    const request = resolve({ sampler: 'euler_a', steps: 3, guidanceScale: 5, seed: 17, negativePrompt: 'blurry' });
    const result = await pipeline.generate(request);
    const expected = await referenceImage(model, request.prompt, request.negativePrompt, request.guidanceScale, request.steps, request.seed);
    const got = pixels(result.images[0]!.png);
    let worst = 0;
    for (let i = 0; i < 64 * 64; i++) {
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(got[i * 4 + c]! - clamp01(expected[c * 64 * 64 + i]!) * 255));
    }
    expect(worst).toBeLessThan(1); // the PNG rounds each channel to the nearest level: within 0.5 plus float noise
    expect(result.usage.unetEvaluations).toBe(2 * 3);
  });

  it('runs the conditional pass alone at guidance ≤ 1 (as diffusers does)', async () => {
    const r = await pipeline.generate(resolve({ guidanceScale: 1, steps: 1 }));
    expect(r.usage.unetEvaluations).toBe(1);
  });

  it('caches text embeddings by model and token ids: a repeated prompt is not encoded again', async () => {
    const prompt = 'one two three four five six seven eight nine ten eleven twelve thirteen';
    const negative = 'one two three four five six seven eight nine ten eleven';
    const first = await pipeline.generate(resolve({ prompt, negativePrompt: negative, steps: 1 }));
    expect(first.usage.textCache).toEqual({ hits: 0, misses: 2 });
    const again = await pipeline.generate(resolve({ prompt, negativePrompt: negative, steps: 1, seed: 99 }));
    expect(again.usage.textCache).toEqual({ hits: 2, misses: 0 });
    expect(again.timings.compileMs).toBe(0);
    // Keyed by token ids, not text: another spelling of the same ids hits, other ids miss.
    const sameIds = 'ONE  two three four five six seven eight nine ten eleven twelve thirteen';
    expect(model.tokenizer.tokenize(sameIds)).toEqual(model.tokenizer.tokenize(prompt));
    const third = await pipeline.generate(resolve({ prompt: sameIds, negativePrompt: `${negative} twelve thirteen fourteen`, steps: 1 }));
    expect(third.usage.textCache).toEqual({ hits: 1, misses: 1 });
  });

  it('writes the AUTOMATIC1111 parameters into each PNG, and they parse back to the request', async () => {
    const r = await pipeline.generate(
      resolve({ prompt: 'a cat, sitting: on a mat', negativePrompt: 'dark', sampler: 'dpmpp_2m', guidanceScale: 6.5, seed: 1234, numImages: 2 }),
    );
    for (const [i, image] of r.images.entries()) {
      const text = readPngParameters(new Uint8Array(image.png));
      expect(text).toBe(image.parameters);
      expect(parseInfotext(text!)).toMatchObject({
        prompt: 'a cat, sitting: on a mat',
        negativePrompt: 'dark',
        steps: 2,
        sampler: 'DPM++ 2M',
        cfgScale: 6.5,
        seed: 1234 + i,
        width: 64,
        height: 64,
        model: 'builtin',
      });
      expect(decodePng(new Uint8Array(image.png))).toMatchObject({ width: 64, height: 64 });
    }
  });

  it('sends progress per step with latent previews and an ETA', async () => {
    const events: GenerateProgress[] = [];
    await pipeline.generate(resolve({ steps: 4, previewEvery: 2 }), { onProgress: (p) => events.push(p) });
    const steps = events.filter((e) => e.stage === 'denoising' && e.step > 0);
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    // A preview after step 2; none at the last step (the final image follows).
    expect(steps.map((e) => e.previewPngs?.length ?? 0)).toEqual([0, 1, 0, 0]);
    expect(decodePng(new Uint8Array(steps[1]!.previewPngs![0]!))).toMatchObject({ width: 16, height: 16 });
    expect(steps.every((e) => e.etaMs! >= 0)).toBe(true);
    expect(events.at(-1)!.stage).toBe('decoding');
  });

  it('cancels within one step, rejects with `cancelled`, holds no tensors afterwards and keeps its compiled sessions', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const sessions = pipeline.cachedSessions;
    const run = pipeline.generate(resolve({ steps: 20 }), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.stage !== 'denoising' || p.step === 0) return;
        seen.push(p.step);
        if (p.step === 2) controller.abort();
      },
    });
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobError);
    expect(error).toMatchObject({ code: 'cancelled' });
    expect(seen).toEqual([1, 2]);
    expect(pipeline.cachedSessions).toBe(sessions);
    const after = await pipeline.generate(resolve({ steps: 1 }));
    expect(after.timings.compileMs).toBe(0);
  });

  it('says what a first request spends its time on, and gives an ETA before the first step once a step was timed', async () => {
    const fresh = await GenerationPipeline.create(model, { preference: 'wasm' });
    const run = async () => {
      const events: GenerateProgress[] = [];
      await fresh.generate(resolve({ steps: 2, guidanceScale: 1 }), { onProgress: (p) => events.push(p) });
      return events;
    };
    const first = await run();
    // Building the text encoder is announced as preparing the model, not as encoding the prompt.
    expect(first.map((e) => `${e.stage}:${e.step}`)).toEqual([
      'compiling:0',
      'encoding-text:0',
      'compiling:0',
      'denoising:0',
      'denoising:1',
      'denoising:2',
      'decoding:2',
    ]);
    expect(first.find((e) => e.stage === 'denoising')?.etaMs).toBeUndefined();
    const second = await run();
    expect(second.map((e) => e.stage)).toEqual(['encoding-text', 'denoising', 'denoising', 'denoising', 'decoding']);
    expect(second[1]!.etaMs).toBeGreaterThan(0);
    await fresh.dispose();
  });

  it('keeps the most recently used sessions: a cache hit protects the decoder as well as the step session', async () => {
    const fresh = await GenerationPipeline.create(model, { preference: 'wasm' });
    const compileMs = async (numImages: number) => (await fresh.generate(resolve({ steps: 1, guidanceScale: 1, numImages }))).timings.compileMs;
    for (const n of [1, 2, 3]) expect(await compileMs(n)).toBeGreaterThan(0);
    expect(await compileMs(1)).toBe(0);
    // Three fit: batch 4 evicts the least recently used (batch 2), not the oldest (batch 1).
    expect(await compileMs(4)).toBeGreaterThan(0);
    expect(await compileMs(1)).toBe(0);
    expect(await compileMs(2)).toBeGreaterThan(0);
    await fresh.dispose();
  });
});

const clamp01 = (v: number) => Math.min(Math.max(v, 0), 1);

/**
 * The same image computed the plain way: the model's own UNet graph (batch 1) called separately for the negative
 * and the positive prompt, guidance combined in JS, the Euler ancestral scheduler's JS `step()`, and the model's
 * VAE decoder with the latent scaling done in JS. Returns [3, 64, 64] values in [0, 1].
 */
async function referenceImage(m: GenerationModel, prompt: string, negative: string, scale: number, steps: number, seed: number): Promise<Float32Array> {
  const { unet, vae, textEncoder } = m.folder;
  const te = buildTextEncoderGraph(textEncoder.config, textEncoder.weights, { batch: 1 }).graph;
  const teSession = await createWasmSession(te);
  const embed = async (text: string) =>
    (await runSession(teSession, te, { input_ids: BigInt64Array.from(m.tokenizer.tokenize(text), (v) => BigInt(v)) })).last_hidden_state as Float32Array;
  const [uncond, cond] = [await embed(negative), await embed(prompt)];
  await teSession.release();

  const un = buildUNetGraph(unet.config, unet.weights, { batch: 1 }).graph;
  const unSession = await createWasmSession(un);
  const { scheduler } = createScheduler(m.schedulerConfig, { sampler: 'euler_a' });
  scheduler.setTimesteps(steps);
  const generator = [new NoiseGenerator(seed)];
  let x: Float32Array = randnForBatch(4 * 16 * 16, generator).map((v) => v * scheduler.initNoiseSigma);
  for (const t of scheduler.timesteps) {
    const input = scheduler.scaleModelInput(x, t);
    const call = async (text: Float32Array) =>
      (await runSession(unSession, un, { sample: input, timestep: new Float32Array([t]), encoder_hidden_states: text })).out_sample as Float32Array;
    const [u, c] = [await call(uncond), await call(cond)];
    const both = new Float32Array(2 * u.length);
    both.set(u);
    both.set(c, u.length);
    x = scheduler.step(combineGuidedOutput(both, scale), t, x, { generator }).prevSample;
  }
  await unSession.release();

  const dec = buildVAEDecoderGraph(vae.config, vae.weights, { batch: 1 }).graph;
  const image = await (async () => {
    const s = await createWasmSession(dec);
    try {
      return (await runSession(s, dec, { latent_sample: x.map((v) => v / vae.config.scaling_factor) })).sample as Float32Array;
    } finally {
      await s.release();
    }
  })();
  return image.map((v) => v / 2 + 0.5);
}
