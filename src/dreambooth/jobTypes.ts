/**
 * The DreamBooth jobs' message types, shared by the page and the studio worker through `StudioJobs`
 * (src/protocol/studioJobs.ts). Types and one id helper: importing this pulls in no model code.
 *
 *   const priors = await worker.request('generatePriors', { classNoun: 'dog', count: 100, seed: 0, ... }, { onProgress });
 *   const run = await worker.request('train', { subjectId, settings, priorKeys: priors.keys, resume: true }, { onProgress, signal });
 *   await worker.request('pauseTraining', { subjectId });            // the run writes a checkpoint and resolves 'paused'
 *   await worker.request('generate', { modelId: checkpointModelId(subjectId, run.checkpoint.id), prompt: ... });
 *
 * The worker writes prior images and checkpoints to IndexedDB itself (src/storage/dreamboothRecords.ts); the page
 * reads them from there, so nothing large crosses the message channel twice.
 */
import type { SamplerName } from '../diffusion/schedulerConfig';
import type { BackendPreference, GenerationBackend } from '../generation/jobTypes';
import type { TrainSettings } from './trainSettings';

export interface GeneratePriorsRequest {
  /** The class noun, e.g. "dog": images are made for "a photo of <classNoun>". */
  classNoun: string;
  count: number;
  /** Image i uses seed + i. */
  seed: number;
  sampler: SamplerName;
  steps: number;
  guidanceScale: number;
  /** Default 'builtin'. */
  modelId?: string;
  backend?: BackendPreference;
}

export interface PriorsProgress {
  done: number;
  total: number;
  /** Images found already made (same model, prompt, seed and sampler settings) and not made again. */
  reused: number;
  /** The image just made or found: its prior key and PNG bytes (for the grid). */
  latest?: { key: string; png: ArrayBuffer };
  etaMs?: number;
  backend?: GenerationBackend;
}

export interface PriorsResult {
  /** Prior keys (IndexedDB `prior/<key>` records), in seed order. */
  keys: string[];
  generated: number;
  reused: number;
  ms: number;
  backend: GenerationBackend | null;
}

export interface TrainRequest {
  subjectId: string;
  settings: TrainSettings;
  /** Class images to train the prior-preservation term on (generated or the person's own), by prior key. */
  priorKeys: string[];
  /** Continue from the subject's latest checkpoint when it belongs to the same settings and data; else start over. */
  resume: boolean;
  modelId?: string;
  backend?: BackendPreference;
}

export type TrainStage = 'preparing' | 'encoding' | 'compiling' | 'training' | 'sampling' | 'checkpointing';

export interface ValidationImage {
  prompt: string;
  seed: number;
  png: ArrayBuffer;
}

export type TrainProgress =
  | { kind: 'stage'; stage: TrainStage; message: string; backend?: GenerationBackend }
  | {
      kind: 'step';
      step: number;
      totalSteps: number;
      loss: number;
      /** Loss split by term, as the prior-preservation objective adds them. */
      instanceLoss: number;
      priorLoss: number;
      learningRate: number;
      gradNorm: number;
      msPerStep: number;
      etaMs: number;
    }
  | { kind: 'validation'; step: number; images: ValidationImage[] }
  /**
   * The loss on one fixed micro-batch (same items, timesteps and noise every time), at the start of a new run and at
   * each checkpoint: whether the model fits its data, which the per-step loss — a new timestep every step — hides.
   */
  | { kind: 'fit'; step: number; loss: number }
  | { kind: 'checkpoint'; checkpoint: CheckpointInfo };

/** A saved checkpoint, as listed in the subject's pointer record. */
export interface CheckpointInfo {
  id: string;
  subjectId: string;
  /** Every checkpoint of one run shares its id; a fresh start begins a new run. */
  runId: string;
  step: number;
  totalSteps: number;
  /** Bytes of the stored state (trainable weights + optimizer moments). */
  bytes: number;
  /** Bytes of the trainable weights alone (what a LoRA export holds). */
  weightBytes: number;
  createdAt: number;
  /** Smoothed loss at this step. */
  loss: number;
  settings: TrainSettings;
  /** The identifier and class the run trained. */
  identifier: string;
  classNoun: string;
  /** The base model the weights apply to. */
  baseModelId: string;
}

export interface TrainResult {
  status: 'finished' | 'paused';
  step: number;
  totalSteps: number;
  checkpoint: CheckpointInfo;
  backend: GenerationBackend;
  /** Milliseconds: preparing data (decode + VAE latents), compiling, training steps, validation, checkpoint writes. */
  timings: { prepareMs: number; compileMs: number; trainMs: number; validationMs: number; checkpointMs: number };
}

/** The model id under which `generate` samples from a checkpoint. */
export const checkpointModelId = (subjectId: string, checkpointId: string) => `checkpoint:${subjectId}:${checkpointId}`;

// ---------------------------------------------------------------------------------------------------------------
// Export and import (issue 9): a checkpoint out as files other tools load, other tools' files in as models.

/**
 * What `exportCheckpoint` writes: the LoRA in diffusers/peft key names (`pipe.load_lora_weights`) or kohya's
 * (AUTOMATIC1111, ComfyUI, kohya's scripts); the merged model as a diffusers folder (.zip); or the training job
 * (photos, class images, base model and a train.sh for diffusers' train_dreambooth_lora.py, .zip).
 */
export type ExportFormat = 'lora-peft' | 'lora-kohya' | 'diffusers-folder' | 'training-job';

export interface ExportCheckpointRequest {
  subjectId: string;
  checkpointId: string;
  format: ExportFormat;
}

/** One file for the page to download. */
export interface ExportedFile {
  fileName: string;
  mime: string;
  bytes: ArrayBuffer;
}

/** A file as the person gave it: its path within a chosen folder (or just its name) and its bytes. */
export interface ImportFile {
  path: string;
  bytes: ArrayBuffer;
}

/**
 * What `importModel` reads: one `.safetensors` LoRA, optionally with its identifier embedding (a second, smaller
 * `.safetensors`); a `.zip` of either; or a diffusers model folder (a `.zip`, or the files of a chosen directory).
 */
export interface ImportModelRequest {
  files: ImportFile[];
}

/** The model id under which `generate` samples from an imported model. */
export const importedModelId = (id: string) => `imported:${id}`;
