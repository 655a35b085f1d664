import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-web';
import { NoiseGenerator, randnForBatch } from '../diffusion/random';
import { COEFFICIENT_ORDER } from '../diffusion/scheduler';
import { usesGuidance } from '../diffusion/guidance';
import { serializeGraph, type GraphBuilder } from '../engine/graph';
import { paramsFromFlatInput } from '../engine/optim/flatParams';
import { ProgramRuntime, type RuntimeProgram } from '../engine/runtime/programRuntime';
import { A1111_SAMPLER_NAMES, formatInfotext, type Infotext } from '../export/infotext';
import { encodePngWithParameters } from '../export/pngImage';
import { buildTextEncoderGraph } from '../model/graphs';
import { JobError } from '../protocol/jobs';
import { buildDenoiseStepGraph, buildLatentDecoderGraph, DECODE_IO, STEP_IO, STEP_PARAM_COUNT } from './denoiseStepGraph';
import type { GenerationModel, TrainedInputs } from './generationModel';
import { imageSeed, type ResolvedGenerateRequest } from './generateRequest';
import { InferenceBackend, type OpenBackendOptions } from './inferenceBackend';
import type { GeneratedImage, GenerateProgress, GenerateResult, GenerateStage, LoadedModel, ModelComponentInfo } from './jobTypes';
import { latentPreviewPngs } from './latentPreview';
import { planDenoising, type DenoisePlan } from './stepCoefficients';
import { TextEmbeddingCache } from './textEmbeddingCache';

export interface RunContext {
  signal?: AbortSignal;
  onProgress?: (progress: GenerateProgress) => void;
}

/**
 * A compiled denoise step on the engine's program runtime (the one training runs on): the latents and the previous x0
 * are its state, fed back each step where they are computed (GPU buffers on WebGPU, captured or not); the text
 * embeddings a read-only state set once per batch; the step's numbers and noise its per-run feeds.
 */
interface StepSession {
  runtime: ProgramRuntime;
  /** The step's UNet reads {@link TRAINED_VALUES} (a read-only state). */
  readsTrained: boolean;
  batch: number;
  guided: boolean;
  latentShape: number[];
  textShape: number[];
}

/** Which model a pipeline's results are named after, and how its prompts are tokenized. */
export type SampledModel = Pick<GenerationModel, 'id' | 'tokenizer'>;

/** The flat input carrying the trained values (see {@link TrainedInputs}). */
const TRAINED_VALUES = 'trained_values';

/** The program name of the denoise step (named in its errors). */
const DENOISE_STEP = 'the denoise step';

interface Timing {
  compileMs: number;
  modelMs: number;
}

const MAX_STEP_SESSIONS = 3;
const MAX_DECODERS = 3;

/**
 * Text → images for one model on one backend. Compiled sessions are cached (text encoder once; a denoise-step
 * graph per (batch, guidance, size); a decoder per (batch, size)) so later requests only run. Per request, the
 * latents and the previous x0 stay where the backend computes (GPU buffers fed back into the next step on WebGPU);
 * each step uploads only its 10 numbers and, for stochastic samplers, the seeded noise. Requests run one at a time.
 */
export class GenerationPipeline {
  readonly textCache = new TextEmbeddingCache();
  private textSession: InferenceSession | undefined;
  /** The text encoder reads {@link TRAINED_VALUES} (its embeddings then change with them and are not cached). */
  private textReadsTrained = false;
  /** The trained values of the moment (a trainer's live parameters, or a checkpoint's), set by {@link setTrainedValues}. */
  private trainedValues: OrtTensor | undefined;
  /** The checkpoint values {@link trainedValues} holds (undefined for a live run's), to skip loading them again. */
  private trainedSource: Float32Array | undefined;
  /** Names of the trained values the graphs built so far read. */
  private readonly trainedRead = new Set<string>();
  /** The model results are named after and prompts are tokenized for: {@link model}, or the checkpoint set last. */
  private sampled: SampledModel;
  private readonly stepSessions = new Map<string, StepSession>();
  private readonly decoders = new Map<string, InferenceSession>();
  /** Parameters of the graphs built so far, by component (the VAE counts its decoder half). */
  private readonly parameterCounts = new Map<ModelComponentInfo['name'], number>();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  /** Milliseconds per denoising step, by step session, from its last run: the ETA before a run's first step. */
  private readonly stepMs = new Map<string, number>();

  constructor(
    readonly model: GenerationModel,
    readonly backend: InferenceBackend,
    private readonly trained?: TrainedInputs,
  ) {
    this.sampled = model;
  }

  /**
   * Points the graphs that read trained values (a pipeline created with {@link TrainedInputs}) at `values`, of the
   * layout's size, and names later results after `as` (tokenizing prompts with its tokenizer). `values` is either a
   * live run's parameters, a shared state tensor of its runtime on this pipeline's device, which the denoise steps read
   * in place (no copy: they see each step's update), or a stored checkpoint's values, uploaded once (setting the same
   * array again loads nothing). One pipeline reads one kind. The text encoder is fed them as they are. Runs after any
   * earlier request.
   */
  setTrainedValues(values: OrtTensor | Float32Array, as: SampledModel = this.model): Promise<void> {
    return this.exclusive(async () => {
      if (!this.trained) throw new Error('setTrainedValues: this pipeline was not built to read trained values');
      const size = values instanceof Float32Array ? values.length : values.size;
      if (size !== this.trained.layout.size) throw new Error(`setTrainedValues: ${size} values, the layout has ${this.trained.layout.size}`);
      const stored = values instanceof Float32Array;
      const holdsStored = this.trainedSource !== undefined;
      if (this.trainedValues && stored !== holdsStored) {
        throw new Error(
          holdsStored
            ? 'setTrainedValues: this pipeline reads stored values; a live run’s values go to a pipeline of their own'
            : 'setTrainedValues: this pipeline reads a live run’s values; stored values go to a pipeline of their own',
        );
      }
      if (!(stored && values === this.trainedSource)) {
        const tensor = stored ? new this.backend.ort.Tensor('float32', values, [size]) : values;
        // Every step session loads them before any field changes: a failed load leaves the pipeline as it was.
        for (const s of this.stepSessions.values()) {
          if (!s.readsTrained) continue;
          if (stored) s.runtime.importState({ [TRAINED_VALUES]: values });
          else s.runtime.borrowState(TRAINED_VALUES, tensor);
        }
        this.trainedValues = tensor;
        this.trainedSource = stored ? values : undefined;
      }
      this.sampled = as;
    });
  }

  static async create(model: GenerationModel, backend: OpenBackendOptions): Promise<GenerationPipeline> {
    return new GenerationPipeline(model, await InferenceBackend.open(backend));
  }

  /** Compiled sessions currently cached. */
  get cachedSessions(): number {
    return (this.textSession ? 1 : 0) + this.stepSessions.size + this.decoders.size;
  }

  /** Compiles what a first guided one-image request at the native size needs, and describes the model. */
  async warm(): Promise<LoadedModel> {
    return this.exclusive(async () => {
      const timing: Timing = { compileMs: 0, modelMs: 0 };
      const shape = { batch: 1, width: this.model.width, height: this.model.height };
      await this.textEncoder(timing);
      await this.stepSession({ ...shape, guided: true }, timing);
      await this.decoder(shape, timing);
      return this.describe(timing.compileMs);
    });
  }

  private describe(compileMs: number): LoadedModel {
    const { folder } = this.model;
    const component = (name: ModelComponentInfo['name'], untrained: boolean): ModelComponentInfo => ({
      name,
      parameters: this.parameterCounts.get(name) ?? 0,
      untrained,
    });
    return {
      modelId: this.sampled.id,
      untrained: folder.untrained,
      components: [component('text_encoder', folder.textEncoder.untrained), component('unet', folder.unet.untrained), component('vae', folder.vae.untrained)],
      width: this.model.width,
      height: this.model.height,
      sizeMultiple: this.model.sizeMultiple,
      backend: this.backend.report,
      compileMs,
    };
  }

  /** Runs one request (after any earlier one finishes). Cancelling rejects with a `cancelled` JobError within one step. */
  generate(request: ResolvedGenerateRequest, ctx: RunContext = {}): Promise<GenerateResult> {
    return this.exclusive(() => this.run(request, ctx));
  }

  /** Releases every session and buffer; the pipeline cannot be used afterwards (its backend's device lives on). */
  async dispose(): Promise<number> {
    this.disposed = true;
    await this.queue.catch(() => undefined);
    let released = 0;
    if (this.textSession) {
      await this.textSession.release();
      released++;
      this.textSession = undefined;
    }
    for (const s of this.stepSessions.values()) await s.runtime.dispose();
    released += this.stepSessions.size;
    this.stepSessions.clear();
    for (const d of this.decoders.values()) await d.release();
    released += this.decoders.size;
    this.decoders.clear();
    return released;
  }

  // ------------------------------------------------------------------ one request

  private async run(r: ResolvedGenerateRequest, ctx: RunContext): Promise<GenerateResult> {
    const started = performance.now();
    const timing: Timing = { compileMs: 0, modelMs: 0 };
    const cacheBefore = { hits: this.textCache.hits, misses: this.textCache.misses };
    const guided = usesGuidance(r.guidanceScale);
    const plan = planDenoising(this.model.schedulerConfig, { sampler: r.sampler, steps: r.steps, eta: r.eta });
    // Steps still to run over all batches of images, for the ETA.
    const total = { steps: r.steps * Math.ceil(r.numImages / r.maxBatch), done: 0, denoiseMs: 0 };
    const progress = (stage: GenerateStage, extra: Partial<GenerateProgress> & { imageIndex: number; imageCount: number }) =>
      ctx.onProgress?.({ stage, step: 0, totalSteps: r.steps, numImages: r.numImages, backend: this.backend.report, ...extra });
    const checkCancelled = () => {
      if (ctx.signal?.aborted) throw new JobError('cancelled', 'generation was cancelled');
    };

    checkCancelled();
    const t0 = performance.now();
    // Building the text encoder is the slow part of a first request: say so rather than "encoding".
    if (!this.textSession) {
      progress('compiling', { imageIndex: 0, imageCount: r.numImages });
      await this.textEncoder(timing);
    }
    progress('encoding-text', { imageIndex: 0, imageCount: r.numImages });
    const cond = await this.embed(r.prompt, timing);
    const uncond = guided ? await this.embed(r.negativePrompt, timing) : null;
    // Compiling the text encoder (first request only) is counted as compilation, not encoding.
    const textEncodeMs = performance.now() - t0 - timing.compileMs;

    const images: GeneratedImage[] = [];
    let decodeMs = 0;
    for (let first = 0; first < r.numImages; first += r.maxBatch) {
      const batch = Math.min(r.maxBatch, r.numImages - first);
      const seeds = Array.from({ length: batch }, (_, i) => imageSeed(r.seed, first + i));
      checkCancelled();
      const shape = { batch, width: r.width, height: r.height };
      const key = stepKey({ ...shape, guided });
      if (!this.stepSessions.has(key)) progress('compiling', { imageIndex: first, imageCount: batch });
      const step = await this.stepSession({ ...shape, guided }, timing);
      const decoder = await this.decoder(shape, timing);
      const text = guidedText(uncond, cond, batch);
      // Before the first step: an ETA from this step session's last run, when there was one.
      const known = this.stepMs.get(key);
      const eta = known !== undefined ? { etaMs: known * (total.steps - total.done) } : {};
      progress('denoising', { step: 0, imageIndex: first, imageCount: batch, ...eta });
      const d0 = performance.now();
      const latents = await this.denoise(
        step,
        plan,
        r,
        seeds,
        text,
        timing,
        (done, previews) => {
          total.done++;
          total.denoiseMs = performance.now() - started - textEncodeMs - decodeMs - timing.compileMs;
          const etaMs = (total.denoiseMs / total.done) * (total.steps - total.done);
          progress('denoising', { step: done, imageIndex: first, imageCount: batch, etaMs, ...(previews ? { previewPngs: previews } : {}) });
        },
        checkCancelled,
      );
      this.stepMs.set(key, (performance.now() - d0) / r.steps);
      progress('decoding', { step: r.steps, imageIndex: first, imageCount: batch });
      const decodeStart = performance.now();
      const pixels = await this.decode(decoder, latents, timing);
      decodeMs += performance.now() - decodeStart;
      images.push(...this.encodeImages(pixels, seeds, r));
    }
    const totalMs = performance.now() - started;
    return {
      modelId: this.sampled.id,
      untrained: this.model.folder.untrained,
      images,
      seeds: images.map((i) => i.seed),
      width: r.width,
      height: r.height,
      usage: {
        unetEvaluations: (guided ? 2 : 1) * r.steps * r.numImages,
        modelMs: timing.modelMs,
        textCache: { hits: this.textCache.hits - cacheBefore.hits, misses: this.textCache.misses - cacheBefore.misses },
      },
      timings: {
        compileMs: timing.compileMs,
        textEncodeMs,
        denoiseMs: totalMs - textEncodeMs - decodeMs - timing.compileMs,
        decodeMs,
        totalMs,
      },
      backend: this.backend.report,
    };
  }

  /** The denoising loop for one batch of images; returns the final latents (the step runtime's, valid until its next run). */
  private async denoise(
    s: StepSession,
    plan: DenoisePlan,
    r: ResolvedGenerateRequest,
    seeds: number[],
    text: Float32Array,
    timing: Timing,
    onStep: (done: number, previews: ArrayBuffer[] | undefined) => void,
    checkCancelled: () => void,
  ): Promise<OrtTensor> {
    const { device } = this.backend;
    const size = s.latentShape.reduce((a, b) => a * b, 1);
    const [, channels, lh, lw] = s.latentShape as [number, number, number, number];
    const generators = seeds.map((seed) => new NoiseGenerator(seed));
    const zeros = new Float32Array(size);
    s.runtime.importState({
      [STEP_IO.latents]: randnForBatch(size, generators).map((v) => v * plan.initNoiseSigma),
      [STEP_IO.prevX0]: zeros,
      [STEP_IO.textEmbeddings]: text,
    });
    const params = new Float32Array(STEP_PARAM_COUNT);
    const queued: Promise<void>[] = [];
    for (let i = 0; i < plan.steps.length; i++) {
      checkCancelled();
      const k = plan.steps[i]!;
      params[0] = k.timestep;
      params[1] = r.guidanceScale;
      COEFFICIENT_ORDER.forEach((name, j) => (params[2 + j] = k[name]));
      const t0 = performance.now();
      await s.runtime.run(DENOISE_STEP, { [STEP_IO.params]: params, [STEP_IO.noise]: plan.stochastic ? randnForBatch(size, generators) : zeros });
      if (device) {
        // At most one step waits in the GPU queue behind the one running: the CPU still prepares step i while
        // step i − 1 computes, yet progress stays within a step of the GPU and a cancel leaves one step to finish.
        queued.push(device.queue.onSubmittedWorkDone());
        while (queued.length > 1) await queued.shift();
      }
      let previews: ArrayBuffer[] | undefined;
      const last = i === plan.steps.length - 1;
      if (r.previewEvery > 0 && !last && (i + 1) % r.previewEvery === 0) {
        const x0 = (await s.runtime.exportState([STEP_IO.prevX0]))[STEP_IO.prevX0]!;
        previews = latentPreviewPngs(x0, s.batch, channels, lh, lw);
      }
      timing.modelMs += performance.now() - t0;
      onStep(i + 1, previews);
      // Let the worker see a cancel message between steps (ORT's promises resolve as microtasks).
      await yieldToEventLoop();
    }
    if (device) {
      // Wait for the last queued step so the timings say where the time went.
      const t0 = performance.now();
      await Promise.all(queued);
      timing.modelMs += performance.now() - t0;
      this.backend.throwGpuErrors(DENOISE_STEP);
    }
    return s.runtime.stateTensor(STEP_IO.latents);
  }

  private async decode(decoder: InferenceSession, latents: OrtTensor, timing: Timing): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const t0 = performance.now();
    const out = await decoder.run({ [DECODE_IO.latents]: latents });
    const image = out[DECODE_IO.image]!;
    const data = (await image.getData()) as Float32Array;
    timing.modelMs += performance.now() - t0;
    this.backend.throwGpuErrors('the VAE decoder');
    return { data, dims: image.dims };
  }

  private encodeImages(pixels: { data: Float32Array; dims: readonly number[] }, seeds: number[], r: ResolvedGenerateRequest): GeneratedImage[] {
    const [, channels, height, width] = pixels.dims as [number, number, number, number];
    const plane = height * width;
    return seeds.map((seed, n) => {
      const rgba = new Uint8Array(plane * 4);
      const base = n * channels * plane;
      for (let i = 0; i < plane; i++) {
        for (let c = 0; c < 3; c++) {
          const v = pixels.data[base + Math.min(c, channels - 1) * plane + i]!;
          rgba[i * 4 + c] = Math.round(Math.min(Math.max(v, 0), 1) * 255);
        }
        rgba[i * 4 + 3] = 255;
      }
      const info: Infotext = {
        prompt: r.prompt,
        negativePrompt: r.negativePrompt,
        steps: r.steps,
        sampler: A1111_SAMPLER_NAMES[r.sampler],
        cfgScale: r.guidanceScale,
        seed,
        width,
        height,
        model: this.sampled.id,
        extra: r.sampler === 'ddim' && r.eta > 0 ? { 'Eta DDIM': String(r.eta) } : {},
      };
      const png = encodePngWithParameters(rgba, width, height, info);
      return { png: png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength) as ArrayBuffer, seed, parameters: formatInfotext(info) };
    });
  }

  // ------------------------------------------------------------------ text

  /** The text encoder's last hidden state for `text` as this model tokenizes it (cached by token ids). */
  textEmbedding(text: string): Promise<Float32Array> {
    return this.embed(text, { compileMs: 0, modelMs: 0 });
  }

  private async embed(text: string, timing: Timing): Promise<Float32Array> {
    const ids = this.sampled.tokenizer.tokenize(text);
    // Every model this pipeline samples shares its text encoder's weights, except trained values, which are never cached.
    const key = TextEmbeddingCache.key(this.model.key, this.sampled.tokenizer.kind, ids);
    const session = await this.textEncoder(timing);
    const hit = this.textReadsTrained ? undefined : this.textCache.get(key);
    if (hit) return hit;
    const t0 = performance.now();
    const input = new this.backend.ort.Tensor(
      'int64',
      BigInt64Array.from(ids, (v) => BigInt(v)),
      [1, ids.length],
    );
    const out = await session.run({ input_ids: input, ...(this.textReadsTrained ? { [TRAINED_VALUES]: this.currentTrainedValues() } : {}) });
    const embedding = ((await out.last_hidden_state!.getData()) as Float32Array).slice();
    timing.modelMs += performance.now() - t0;
    this.backend.throwGpuErrors('the text encoder');
    if (!this.textReadsTrained) this.textCache.set(key, embedding);
    return embedding;
  }

  private currentTrainedValues(): OrtTensor {
    if (!this.trainedValues) throw new Error('this pipeline reads trained values: call setTrainedValues before generating');
    return this.trainedValues;
  }

  /** A component graph as this pipeline runs it: as built, or reading the trained values (see {@link TrainedInputs}). */
  private readingTrained(graph: GraphBuilder): GraphBuilder {
    return this.trained ? paramsFromFlatInput(this.trained.rewrite(graph), this.trained.layout, TRAINED_VALUES, this.trainedRead) : graph;
  }

  /**
   * Once the text encoder and a UNet graph are built: every trained value must be read by one of them. Values no graph
   * reads (a checkpoint of a model whose layers are named otherwise) would sample the base model unchanged, silently.
   */
  private checkEveryTrainedValueRead(): void {
    const unread = this.trained?.layout.entries.filter((e) => !this.trainedRead.has(e.name)) ?? [];
    if (unread.length === 0) return;
    throw new JobError(
      'bad-input',
      `${this.sampled.id} holds ${unread.length} trained tensor${unread.length === 1 ? '' : 's'} its base model has no layer for (first: ${unread[0]!.name}): it was trained on another model`,
      'modelId',
    );
  }

  // ------------------------------------------------------------------ sessions

  private async textEncoder(timing: Timing): Promise<InferenceSession> {
    if (this.textSession) return this.textSession;
    const { config, weights } = this.model.folder.textEncoder;
    const paramPrefix = this.trained?.prefixes.textEncoder;
    this.textSession = await this.compile(
      timing,
      'text_encoder',
      () => this.readingTrained(buildTextEncoderGraph(config, weights, { batch: 1, ...(paramPrefix ? { paramPrefix } : {}) }).graph),
      (graph) => {
        this.textReadsTrained = graph.inputs.some((t) => t.name === TRAINED_VALUES);
        return this.backend.createSession(graph);
      },
    );
    return this.textSession;
  }

  private async stepSession(shape: { batch: number; guided: boolean; width: number; height: number }, timing: Timing): Promise<StepSession> {
    const key = stepKey(shape);
    const cached = lruGet(this.stepSessions, key);
    if (cached) return cached;
    const { unet, textEncoder } = this.model.folder;
    const latentHeight = shape.height / this.model.vaeFactor;
    const latentWidth = shape.width / this.model.vaeFactor;
    const textLength = textEncoder.config.max_position_embeddings;
    const latentShape = [shape.batch, this.model.latentChannels, latentHeight, latentWidth];
    const textShape = [(shape.guided ? 2 : 1) * shape.batch, textLength, unet.config.cross_attention_dim];
    const { device, webGpuIo } = this.backend;
    const paramPrefix = this.trained?.prefixes.unet;
    let readsTrained = false;
    const runtime = await this.compile(
      timing,
      'unet',
      () =>
        this.readingTrained(
          buildDenoiseStepGraph(unet.config, unet.weights, {
            batch: shape.batch,
            guided: shape.guided,
            latentHeight,
            latentWidth,
            textLength,
            ...(paramPrefix ? { paramPrefix } : {}),
          }),
        ),
      async (graph) => {
        this.checkEveryTrainedValueRead();
        readsTrained = graph.inputs.some((t) => t.name === TRAINED_VALUES);
        const trainedState = readsTrained ? [{ name: TRAINED_VALUES, output: null }] : [];
        const program: RuntimeProgram = {
          name: DENOISE_STEP,
          model: serializeGraph(graph),
          feeds: [
            { name: STEP_IO.params, dtype: 'float32', shape: [STEP_PARAM_COUNT] },
            { name: STEP_IO.noise, dtype: 'float32', shape: latentShape },
          ],
          state: [
            { name: STEP_IO.latents, output: STEP_IO.nextLatents },
            { name: STEP_IO.prevX0, output: STEP_IO.predX0 },
            { name: STEP_IO.textEmbeddings, output: null },
            ...trainedState,
          ],
          readback: [],
        };
        const size = (dims: number[]) => new Float32Array(dims.reduce((a, b) => a * b, 1));
        const trained = readsTrained ? this.currentTrainedValues() : undefined;
        const rt = await ProgramRuntime.create({
          engine: this.backend.engine,
          ep: this.backend.ep,
          io: device ? webGpuIo : 'ort',
          programs: [program],
          state: {
            [STEP_IO.latents]: size(latentShape),
            [STEP_IO.prevX0]: size(latentShape),
            [STEP_IO.textEmbeddings]: size(textShape),
            // A stored checkpoint's values are uploaded; a live run's tensor is borrowed.
            ...(trained ? { [TRAINED_VALUES]: this.trainedSource ?? trained } : {}),
          },
        });
        return rt;
      },
    );
    const s: StepSession = { runtime, readsTrained, batch: shape.batch, guided: shape.guided, latentShape, textShape };
    for (const old of lruSet(this.stepSessions, key, s, MAX_STEP_SESSIONS)) await old.runtime.dispose();
    return s;
  }

  private async decoder(shape: { batch: number; width: number; height: number }, timing: Timing): Promise<InferenceSession> {
    const key = `${shape.batch}:${shape.width}x${shape.height}`;
    const cached = lruGet(this.decoders, key);
    if (cached) return cached;
    const { vae } = this.model.folder;
    const f = this.model.vaeFactor;
    const session = await this.compile(
      timing,
      'vae',
      () => buildLatentDecoderGraph(vae.config, vae.weights, { batch: shape.batch, latentHeight: shape.height / f, latentWidth: shape.width / f }),
      (graph) => this.backend.createSession(graph),
    );
    for (const old of lruSet(this.decoders, key, session, MAX_DECODERS)) await old.release();
    return session;
  }

  /** Builds a component's graph, counts its parameters and compiles it with `create`, timed as compilation. */
  private async compile<T>(
    timing: Timing,
    component: ModelComponentInfo['name'],
    build: () => GraphBuilder,
    create: (graph: GraphBuilder) => Promise<T>,
  ): Promise<T> {
    const t0 = performance.now();
    const graph = build();
    this.parameterCounts.set(
      component,
      graph.parameters().reduce((n, p) => n + p.tensor.size, 0),
    );
    const compiled = await create(graph);
    timing.compileMs += performance.now() - t0;
    return compiled;
  }

  // ------------------------------------------------------------------ bookkeeping

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new Error('the generation pipeline was released'));
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function stepKey(s: { batch: number; guided: boolean; width: number; height: number }): string {
  return `${s.batch}:${s.guided ? 'cfg' : 'cond'}:${s.width}x${s.height}`;
}

/** A cache hit in a Map used as an LRU list: the entry moves to the end (most recently used). */
function lruGet<K, V>(cache: Map<K, V>, key: K): V | undefined {
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
  }
  return hit;
}

/** Adds an entry as most recently used; returns the least recently used ones removed to keep `max`. */
function lruSet<K, V>(cache: Map<K, V>, key: K, value: V, max: number): V[] {
  cache.set(key, value);
  const evicted: V[] = [];
  for (const [k, old] of cache) {
    if (cache.size <= max) break;
    cache.delete(k);
    evicted.push(old);
  }
  return evicted;
}

/** [uncond × B, cond × B] with guidance (diffusers' order), [cond × B] without. */
function guidedText(uncond: Float32Array | null, cond: Float32Array, batch: number): Float32Array {
  const parts = [...(uncond ? new Array<Float32Array>(batch).fill(uncond) : []), ...new Array<Float32Array>(batch).fill(cond)];
  const out = new Float32Array(parts.length * cond.length);
  parts.forEach((p, i) => out.set(p, i * cond.length));
  return out;
}

/** A macrotask boundary without timer clamping, so message events (cancel, pause) are handled between steps. */
export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}
