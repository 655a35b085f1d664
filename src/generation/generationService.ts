import type { OrtFlavor } from '../engine/runtime/ort';
import { JobError } from '../protocol/jobs';
import type { JobContext } from '../protocol/server';
import type { BackendReport } from '../protocol/studioJobs';
import { chooseBackend } from './backendChoice';
import { explainBackendError } from './backendErrors';
import { BUILTIN_MODEL_ID, builtinModelSource, loadGenerationModel, type GenerationModel } from './generationModel';
import { GenerationPipeline } from './generationPipeline';
import { checkGenerateRequest, requestedBackend, requestedModelId, resolveGenerateRequest } from './generateRequest';
import { InferenceBackend } from './inferenceBackend';
import type { BackendPreference, GenerateProgress, GenerateResult, LoadedModel, LoadModelRequest, UnloadModelsResult } from './jobTypes';

/** Which weights a model id names now, and the image size it makes by default. */
export interface ModelIdentity {
  modelId: string;
  key: string;
  width: number;
  height: number;
}

/** Loads the model a non-built-in id names (e.g. a trained checkpoint); undefined when the id names none. */
export type ModelResolver = (modelId: string, base: (modelId: string) => Promise<GenerationModel>) => Promise<GenerationModel> | undefined;

/**
 * The worker side of the generation jobs: one pipeline per (model, backend setting), created on first use
 * and kept (with its compiled sessions and text-embedding cache) until `unloadModels`. Trained checkpoints of one
 * structure (GenerationModel.trained) share a pipeline: a request for another one only loads its values. Jobs run one at a time
 * across all pipelines: they share one ORT instance and one device, so two at once would contend for both.
 * The setting is resolved against the worker's probe with `chooseBackend`, the rule the page's badge shows.
 *
 * The queue is the worker's device lease: short jobs (a generation) wait their turn; a long one (training) takes
 * it with {@link holdDevice}, and jobs arriving meanwhile are refused with a `busy` message instead of waiting.
 */
export class GenerationService {
  private readonly models = new Map<string, Promise<GenerationModel>>();
  private readonly pipelines = new Map<string, Promise<GenerationPipeline>>();
  private queue: Promise<unknown> = Promise.resolve();
  private longJob: string | null = null;

  /**
   * `probe`: what the worker found to compute on (its wasm thread count included). Node tools may also set
   * `ortFlavor`, which onnxruntime-web build backends and training runtimes load ('node-webgpu': WebGPU through Dawn),
   * and `cpuEp`, what runs the work a 'wasm' (CPU) setting asks for: onnxruntime-web's wasm EP (the default, what the
   * studio has) or onnxruntime-node's native CPU EP, ~4× faster on the same graphs.
   */
  constructor(
    private readonly probe: Promise<BackendReport>,
    private readonly resolve: ModelResolver = () => undefined,
    private readonly options: { ortFlavor?: OrtFlavor; cpuEp?: 'wasm' | 'cpu' } = {},
  ) {}

  get ortFlavor(): OrtFlavor {
    return this.options.ortFlavor ?? 'auto';
  }

  /** A model by id, loaded once (nothing is compiled). */
  model(modelId: string): Promise<GenerationModel> {
    let m = this.models.get(modelId);
    if (!m) {
      const resolved = modelId === BUILTIN_MODEL_ID ? loadGenerationModel(builtinModelSource()) : this.resolve(modelId, (id) => this.model(id));
      if (!resolved)
        return Promise.reject(new JobError('bad-input', `there is no model "${modelId}": use "builtin", a trained checkpoint or an imported model`, 'modelId'));
      m = resolved;
      this.models.set(modelId, m);
      // A failed load is not cached: the next request tries again.
      m.catch(() => this.models.get(modelId) === m && this.models.delete(modelId));
    }
    return m;
  }

  /**
   * Runs a long job (`what`, e.g. "training Rex") with the device to itself: it starts once the jobs queued before
   * it finish, and until it ends other jobs are refused with a message naming it. Its generation sessions are
   * released first so their GPU memory is free.
   */
  holdDevice<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.refuseIfBusy();
    this.longJob = what;
    return this.exclusive(async () => {
      try {
        await this.releasePipelines();
        return await fn();
      } finally {
        this.longJob = null;
      }
    });
  }

  loadModel(request: LoadModelRequest | undefined): Promise<LoadedModel> {
    this.refuseIfBusy();
    return this.exclusive(async () => {
      const pipeline = await this.pipeline(requestedModelId(request ?? {}), requestedBackend(request ?? {}));
      return pipeline.warm();
    });
  }

  /**
   * A model's identity and native size, loading it if needed (nothing is compiled): `key` is GenerationModel.key,
   * which changes whenever the weights do, so what was made with one set of weights is never taken for another's.
   */
  async describeModel(request: { modelId?: string; backend?: BackendPreference } = {}): Promise<ModelIdentity> {
    const model = await this.model(requestedModelId(request));
    return { modelId: model.id, key: model.key, width: model.width, height: model.height };
  }

  async generate(payload: unknown, ctx: JobContext<GenerateProgress>): Promise<GenerateResult> {
    const checked = checkGenerateRequest(payload);
    this.refuseIfBusy();
    const modelId = requestedModelId(checked);
    const backend = requestedBackend(checked);
    if (!(await this.hasPipeline(modelId, backend))) {
      ctx.progress({ stage: 'loading-model', step: 0, totalSteps: checked.steps, imageIndex: 0, imageCount: 0, numImages: checked.numImages });
    }
    // A long job may have taken the device while the model was looked up.
    this.refuseIfBusy();
    const result = await this.exclusive(async () => {
      const pipeline = await this.pipeline(modelId, backend);
      const request = resolveGenerateRequest(checked, pipeline.model);
      return pipeline.generate(request, { signal: ctx.signal, onProgress: (p) => ctx.progress(p) });
    });
    ctx.transfer(...result.images.map((i) => i.png));
    return result;
  }

  unloadModels(): Promise<UnloadModelsResult> {
    this.refuseIfBusy();
    return this.exclusive(async () => ({ sessionsReleased: await this.releasePipelines() }));
  }

  private async releasePipelines(): Promise<number> {
    const pipelines = [...this.pipelines.values()];
    this.pipelines.clear();
    let sessionsReleased = 0;
    for (const p of pipelines) sessionsReleased += (await (await p.catch(() => null))?.dispose()) ?? 0;
    return sessionsReleased;
  }

  private refuseIfBusy(): void {
    if (this.longJob !== null) {
      throw new JobError('failed', `The studio is ${this.longJob}, which has the compute device to itself. Pause or cancel it first, then try again.`);
    }
  }

  /** The wasm threads onnxruntime uses in this worker. */
  async wasmThreads(): Promise<number> {
    return (await this.probe).wasmThreads;
  }

  /**
   * The backend for a setting. When 'auto' chose a graphics card that then will not start, it runs on the CPU
   * and says why; a GPU asked for by name fails with the reason instead.
   */
  async openBackend(preference: BackendPreference): Promise<InferenceBackend> {
    const probe = await this.probe;
    const choice = chooseBackend(preference, probe);
    const threads = probe.wasmThreads;
    const wasm = (why: string, detail?: string) =>
      InferenceBackend.open({
        preference: this.options.cpuEp ?? 'wasm',
        threads,
        ortFlavor: this.ortFlavor,
        choice: { requested: preference, why, ...(detail ? { detail } : {}) },
      });
    if (choice.ep === 'wasm') return wasm(choice.why, probe.detail);
    try {
      return await InferenceBackend.open({ preference: 'webgpu', threads, ortFlavor: this.ortFlavor, choice: { requested: preference, why: choice.why } });
    } catch (error) {
      if (preference !== 'auto') throw error;
      const raw = error instanceof Error ? error.message : String(error);
      const plain = explainBackendError(raw)?.reason ?? 'The graphics card would not start.';
      return wasm(`${plain.replace(/\.$/, '')}; running on the CPU instead`, raw);
    }
  }

  /** Runs `fn` after every job queued before it has settled. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The pipeline that samples `modelId` on a backend setting, set to sample it (a checkpoint's values loaded). */
  private async pipeline(modelId: string, preference: BackendPreference): Promise<GenerationPipeline> {
    const model = await this.model(modelId);
    const key = pipelineKey(model, preference);
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.openBackend(preference).then((backend) => new GenerationPipeline(model, backend, model.trained?.inputs));
      this.pipelines.set(key, p);
      // A failed load is not cached: the next request tries again.
      p.catch(() => this.pipelines.get(key) === p && this.pipelines.delete(key));
    }
    const pipeline = await p;
    if (model.trained) await pipeline.setTrainedValues(model.trained.values, model);
    return pipeline;
  }

  /** Whether a request for `modelId` finds its model loaded and its pipeline made. */
  private async hasPipeline(modelId: string, preference: BackendPreference): Promise<boolean> {
    const model = await this.models.get(modelId)?.catch(() => undefined);
    return model !== undefined && this.pipelines.has(pipelineKey(model, preference));
  }
}

function pipelineKey(model: GenerationModel, preference: BackendPreference): string {
  return `${model.trained ? `trained:${model.trained.structure}` : model.id}|${preference}`;
}
