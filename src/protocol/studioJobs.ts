import type { GenerateProgress, GenerateRequest, GenerateResult, LoadedModel, LoadModelRequest, UnloadModelsResult } from '../generation/jobTypes';
import type { PromptLength } from '../text/promptLength';
import type {
  ExportCheckpointRequest,
  ExportedFile,
  GeneratePriorsRequest,
  ImportModelRequest,
  PriorsProgress,
  PriorsResult,
  TrainProgress,
  TrainRequest,
  TrainResult,
} from '../dreambooth/jobTypes';
import type { ImportedModelInfo } from '../storage/importedModels';
import type { JobSpec } from './jobs';

/** Where heavy work runs, as the worker found it. */
export type ComputeBackend = 'webgpu-gpu' | 'webgpu-software' | 'cpu-wasm';

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a software adapter (e.g. SwiftShader), where the browser says so. */
  isFallbackAdapter: boolean;
  shaderF16: boolean;
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
  };
}

export interface BackendReport {
  backend: ComputeBackend;
  /** What was found, in plain words, e.g. "this browser has no WebGPU, or it is turned off (navigator.gpu missing)". */
  reason: string;
  /** The browser's own error text behind `reason`, for a disclosure; absent when nothing failed. */
  detail?: string;
  /** Null when no adapter was found. */
  adapter: AdapterReport | null;
  /** Whether wasm threads (SharedArrayBuffer) are available. */
  crossOriginIsolated: boolean;
  logicalCores: number;
  /** The wasm threads the worker's onnxruntime uses (the badge and the run reports both show this number). */
  wasmThreads: number;
}

export interface PrepareImageRequest {
  /** The file's bytes, transferred to the worker. */
  bytes: ArrayBuffer;
  /** Side of the square crop the model sees. */
  resolution: number;
  /** Crop for this model instead, when it makes larger images than `resolution` (class photos for a chosen base model). */
  forModel?: string;
  /** Longest side of the preview thumbnail. */
  thumbnailSize: number;
}

/** A photo checked, decoded with its EXIF orientation applied, and cropped. */
export interface PreparedImage {
  /** SHA-256 of the original bytes (hex): identity for duplicates and the key of the stored blob. */
  sha256: string;
  mime: string;
  /** Size after orientation, as a person sees the photo. */
  width: number;
  height: number;
  /** Centre square, `cropSide`² PNG on white. */
  crop: ArrayBuffer;
  /** The crop's side: the request's `resolution`, or its `forModel`'s image size when larger. */
  cropSide: number;
  /** Whole photo scaled down, PNG. */
  thumbnail: ArrayBuffer;
  /** Some pixels are (partly) transparent: crop and thumbnail show them on white. */
  transparent: boolean;
  /** The file is an animation (GIF, APNG, animated WebP): only its first frame is used. */
  animated: boolean;
}

export type PrepareImageStage = 'checking' | 'decoding' | 'cropping';

/**
 * Every job the studio worker runs. Add a job here and its handler in src/worker/studio.worker.ts.
 * (A type alias, not an interface, so it satisfies JobMap's index signature while keeping its exact keys.)
 */
export type StudioJobs = {
  probeBackend: JobSpec<undefined, BackendReport>;
  prepareImage: JobSpec<PrepareImageRequest, PreparedImage, PrepareImageStage>;
  /** Builds and caches a model's sessions; reports whether it is untrained and which backend really runs it. */
  loadModel: JobSpec<LoadModelRequest, LoadedModel>;
  /** Text → images (PNG with A1111 parameters); progress per step with previews. Types: src/generation/jobTypes.ts. */
  generate: JobSpec<GenerateRequest, GenerateResult, GenerateProgress>;
  /** Counts a prompt's CLIP tokens and names the words past what the text encoder reads. */
  measurePrompt: JobSpec<string, PromptLength>;
  /** Releases every cached generation session (frees GPU memory, e.g. before training). */
  unloadModels: JobSpec<undefined, UnloadModelsResult>;
  /** Class-prior images for "a photo of <class>", stored in IndexedDB as made; a re-run reuses what exists. */
  generatePriors: JobSpec<GeneratePriorsRequest, PriorsResult, PriorsProgress>;
  /** DreamBooth fine-tuning of one subject with checkpoints in IndexedDB. Types: src/dreambooth/jobTypes.ts. */
  train: JobSpec<TrainRequest, TrainResult, TrainProgress>;
  /** Asks the subject's running training to write a checkpoint and stop; false when none runs. */
  pauseTraining: JobSpec<{ subjectId: string }, { paused: boolean }>;
  /** A checkpoint as a file other tools load (LoRA, diffusers folder, training job), built from IndexedDB. */
  exportCheckpoint: JobSpec<ExportCheckpointRequest, ExportedFile>;
  /** Checks a LoRA or diffusers folder against the base model and stores it; refuses it naming the key and reason. */
  importModel: JobSpec<ImportModelRequest, ImportedModelInfo>;
};
