/**
 * The generation jobs' message types (payloads, progress events, results), shared by the page and the
 * studio worker through `StudioJobs` in src/protocol/studioJobs.ts. Type-only: importing this pulls in no code.
 *
 *   const model = await worker.request('loadModel', { modelId: 'builtin' });
 *   const out = await worker.request('generate', { prompt: 'a photo of a dog', sampler: 'dpmpp_2m', steps: 25,
 *     guidanceScale: 7.5, seed: 42, numImages: 2 }, { onProgress, signal });
 *   out.images[0].png // PNG bytes with AUTOMATIC1111's `parameters` chunk
 *
 * Batch files (src/batch) run through `generate` one line at a time: `generateRequestFromBatch` and
 * `batchOutcomeFromResult` in src/generation/batchAdapter.ts convert both ways.
 */
import type { SamplerName } from '../diffusion/schedulerConfig';

/**
 * Which compute backend to ask for (the header's Auto / GPU / CPU setting). 'auto' picks by expected speed:
 * a hardware GPU, else wasm — never a software adapter (see chooseBackend in src/generation/backendChoice.ts).
 */
export type BackendPreference = 'auto' | 'webgpu' | 'wasm';

/** What really ran the model, established after the sessions exist (never just what was asked for). */
export interface GenerationBackend {
  /** 'cpu': onnxruntime-node's native CPU EP, which only Node tools (the CLI) open; the studio runs 'webgpu' or 'wasm'. */
  ep: 'webgpu' | 'wasm' | 'cpu';
  /** A real GPU, a software renderer posing as one (SwiftShader, fallback adapters), or the CPU. */
  kind: 'gpu' | 'software-gpu' | 'cpu';
  /** WebGPU adapter, when ep is webgpu: "vendor architecture description". */
  adapter?: string;
  /** CPU threads, when ep is wasm or cpu. */
  threads?: number;
  requested: BackendPreference;
  /** Why this backend runs, in plain words (e.g. why 'auto' passed over a software adapter). */
  why: string;
  /** The library's own text when a failure led here (WebGPU would not start), for a disclosure. */
  detail?: string;
}

export interface LoadModelRequest {
  /** Model to load; 'builtin' is the app's own small SD configuration. Default 'builtin'. */
  modelId?: string;
  backend?: BackendPreference;
}

export interface ModelComponentInfo {
  name: 'text_encoder' | 'unet' | 'vae';
  /** Parameters of the graph generation runs (for the VAE: its decoder half). */
  parameters: number;
  /** True when the weights are the seeded initialisation (nobody trained this component). */
  untrained: boolean;
}

/** A loaded model: its text encoder and VAE decoder sessions are compiled and cached in the worker. */
export interface LoadedModel {
  modelId: string;
  /** True when any component is untrained: its pictures are noise-like, and the UI should say why. */
  untrained: boolean;
  components: ModelComponentInfo[];
  /** Native image size (what `generate` uses when width/height are left out). */
  width: number;
  height: number;
  /** Image sizes must be multiples of this (VAE factor × UNet downsampling). */
  sizeMultiple: number;
  backend: GenerationBackend;
  /** Time spent building graphs and creating sessions for this call (0 when everything was cached). */
  compileMs: number;
}

export interface GenerateRequest {
  /** Default 'builtin'. */
  modelId?: string;
  prompt: string;
  /** Empty: unconditional (the empty prompt), as diffusers does. */
  negativePrompt?: string;
  sampler: SamplerName;
  /** Denoising steps, 1–1000. */
  steps: number;
  /** Classifier-free guidance scale, 0–100; ≤ 1 runs the conditional pass only (diffusers' rule). */
  guidanceScale: number;
  /** Seed of the first image, 0–4294967295; image i uses seed + i (mod 2³²), as AUTOMATIC1111 does. */
  seed: number;
  /** Images to make, 1–16; they are denoised together in batches of at most `maxBatch`. */
  numImages: number;
  /** DDIM's η in [0, 1] (0 = deterministic); other samplers refuse a non-zero value. */
  eta?: number;
  /** Image size in pixels; default the model's native size. */
  width?: number;
  height?: number;
  /** Send a preview every this many steps (0: none). Default 5. */
  previewEvery?: number;
  /** Images per UNet batch (the UNet runs on 2× this with guidance). Default 4. */
  maxBatch?: number;
  backend?: BackendPreference;
}

export type GenerateStage = 'loading-model' | 'compiling' | 'encoding-text' | 'denoising' | 'decoding';

export interface GenerateProgress {
  stage: GenerateStage;
  /** Steps done in the current batch of images (0 before the first). */
  step: number;
  totalSteps: number;
  /** First image of the batch being worked on, and how many images that batch holds. */
  imageIndex: number;
  imageCount: number;
  numImages: number;
  /**
   * Cheap previews of the current x0 estimate (a fixed linear map of the latent channels to RGB, at latent
   * resolution), one PNG per image of the batch, every `previewEvery` steps.
   */
  previewPngs?: ArrayBuffer[];
  /** Estimated time left for the whole request, once a step has been timed. */
  etaMs?: number;
  backend?: GenerationBackend;
}

export interface GeneratedImage {
  /** PNG with the AUTOMATIC1111 `parameters` text chunk already embedded. */
  png: ArrayBuffer;
  seed: number;
  /** The infotext stored in the PNG. */
  parameters: string;
}

export interface GenerationUsage {
  /** UNet evaluations per image summed over images: a guided step over one image counts 2 (batch format). */
  unetEvaluations: number;
  /** Wall time of model runs (text encoder, denoising steps, VAE decode), on whichever backend ran them. */
  modelMs: number;
  /** Text-embedding cache: prompts found already encoded vs encoded now. */
  textCache: { hits: number; misses: number };
}

export interface GenerationTimings {
  /** Graph building and session creation (0 when the sessions were cached). */
  compileMs: number;
  textEncodeMs: number;
  denoiseMs: number;
  decodeMs: number;
  totalMs: number;
}

export interface GenerateResult {
  modelId: string;
  untrained: boolean;
  images: GeneratedImage[];
  /** seeds[i] made images[i]. */
  seeds: number[];
  width: number;
  height: number;
  usage: GenerationUsage;
  timings: GenerationTimings;
  backend: GenerationBackend;
}

export interface UnloadModelsResult {
  /** Sessions released (their GPU memory is freed). */
  sessionsReleased: number;
}
