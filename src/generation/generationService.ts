import { JobError } from '../protocol/jobs';
import type { JobContext } from '../protocol/server';
import { BUILTIN_MODEL_ID, builtinModelSource, loadGenerationModel, type ModelSource } from './generationModel';
import { GenerationPipeline } from './generationPipeline';
import { checkGenerateRequest, requestedBackend, requestedModelId, resolveGenerateRequest } from './generateRequest';
import type { GenerateProgress, GenerateResult, LoadedModel, LoadModelRequest, UnloadModelsResult } from './jobTypes';

/**
 * The worker side of the generation jobs: one pipeline per (model, backend preference), created on first use
 * and kept (with its compiled sessions and text-embedding cache) until `unloadModels`. Jobs run one at a time
 * across all pipelines: they share one ORT instance and one device, so two at once would contend for both.
 */
export class GenerationService {
  private readonly sources = new Map<string, ModelSource>();
  private readonly pipelines = new Map<string, Promise<GenerationPipeline>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor() {
    this.sources.set(BUILTIN_MODEL_ID, builtinModelSource());
  }

  loadModel(request: LoadModelRequest | undefined): Promise<LoadedModel> {
    return this.exclusive(async () => {
      const pipeline = await this.pipeline(requestedModelId(request ?? {}), requestedBackend(request ?? {}));
      return pipeline.warm();
    });
  }

  async generate(payload: unknown, ctx: JobContext<GenerateProgress>): Promise<GenerateResult> {
    const checked = checkGenerateRequest(payload);
    const modelId = requestedModelId(checked);
    const backend = requestedBackend(checked);
    if (!this.pipelines.has(`${modelId}|${backend}`)) {
      ctx.progress({ stage: 'loading-model', step: 0, totalSteps: checked.steps, imageIndex: 0, imageCount: 0, numImages: checked.numImages });
    }
    const result = await this.exclusive(async () => {
      const pipeline = await this.pipeline(modelId, backend);
      const request = resolveGenerateRequest(checked, pipeline.model);
      return pipeline.generate(request, { signal: ctx.signal, onProgress: (p) => ctx.progress(p) });
    });
    ctx.transfer(...result.images.map((i) => i.png));
    return result;
  }

  unloadModels(): Promise<UnloadModelsResult> {
    return this.exclusive(async () => {
      const pipelines = [...this.pipelines.values()];
      this.pipelines.clear();
      let sessionsReleased = 0;
      for (const p of pipelines) sessionsReleased += (await (await p.catch(() => null))?.dispose()) ?? 0;
      return { sessionsReleased };
    });
  }

  /** Runs `fn` after every job queued before it has settled. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private pipeline(modelId: string, preference: 'auto' | 'webgpu' | 'wasm'): Promise<GenerationPipeline> {
    const key = `${modelId}|${preference}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const source = this.sources.get(modelId);
      if (!source) {
        const known = [...this.sources.keys()].map((k) => `"${k}"`).join(', ');
        return Promise.reject(new JobError('bad-input', `there is no model "${modelId}" (known: ${known})`, 'modelId'));
      }
      p = loadGenerationModel(source).then((model) => GenerationPipeline.create(model, { preference }));
      this.pipelines.set(key, p);
      // A failed load is not cached: the next request tries again.
      p.catch(() => this.pipelines.get(key) === p && this.pipelines.delete(key));
    }
    return p;
  }
}
