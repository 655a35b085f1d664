import { JobError } from '../protocol/jobs';
import type { JobContext } from '../protocol/server';
import { BUILTIN_MODEL_ID, builtinModelSource, loadGenerationModel, type ModelSource } from './generationModel';
import { GenerationPipeline } from './generationPipeline';
import { checkGenerateRequest, requestedBackend, requestedModelId, resolveGenerateRequest } from './generateRequest';
import type { GenerateProgress, GenerateResult, LoadedModel, LoadModelRequest, UnloadModelsResult } from './jobTypes';

/**
 * The worker side of the generation jobs: one pipeline per (model, backend preference), created on first use
 * and kept (with its compiled sessions and text-embedding cache) until `unloadModels`.
 */
export class GenerationService {
  private readonly sources = new Map<string, ModelSource>();
  private readonly pipelines = new Map<string, Promise<GenerationPipeline>>();

  constructor() {
    this.sources.set(BUILTIN_MODEL_ID, builtinModelSource());
  }

  async loadModel(request: LoadModelRequest | undefined): Promise<LoadedModel> {
    const pipeline = await this.pipeline(requestedModelId(request ?? {}), requestedBackend(request ?? {}));
    return pipeline.warm();
  }

  async generate(payload: unknown, ctx: JobContext<GenerateProgress>): Promise<GenerateResult> {
    const checked = checkGenerateRequest(payload);
    const modelId = requestedModelId(checked);
    const backend = requestedBackend(checked);
    if (!this.pipelines.has(`${modelId}|${backend}`)) {
      ctx.progress({ stage: 'loading-model', step: 0, totalSteps: checked.steps, imageIndex: 0, imageCount: 0, numImages: checked.numImages });
    }
    const pipeline = await this.pipeline(modelId, backend);
    const request = resolveGenerateRequest(checked, pipeline.model);
    const result = await pipeline.generate(request, { signal: ctx.signal, onProgress: (p) => ctx.progress(p) });
    ctx.transfer(...result.images.map((i) => i.png));
    return result;
  }

  async unloadModels(): Promise<UnloadModelsResult> {
    const pipelines = [...this.pipelines.values()];
    this.pipelines.clear();
    let sessionsReleased = 0;
    for (const p of pipelines) sessionsReleased += (await (await p.catch(() => null))?.dispose()) ?? 0;
    return { sessionsReleased };
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
