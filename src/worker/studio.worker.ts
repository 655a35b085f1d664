/// <reference lib="webworker" />
import { checkpointModels } from '../dreambooth/checkpointModels';
import { generateClassPriors } from '../dreambooth/classPriors';
import { TrainingService } from '../dreambooth/trainingJob';
import { GenerationService } from '../generation/generationService';
import { JobError } from '../protocol/jobs';
import { serveJobs } from '../protocol/server';
import { ClipTokenizer } from '../text/clipTokenizer';
import { measurePrompt } from '../text/promptLength';
import type { PrepareImageRequest, StudioJobs } from '../protocol/studioJobs';
import { probeBackend } from './backendProbe';
import { deviceLostCode } from './deviceLostCode';
import { exportCheckpoint } from './exportCheckpoint';
import { importedModels } from './importedModels';
import { importModel } from './importModel';
import { cropPhoto, prepareImage } from './imagePreparation';
import { logCspViolations } from '../security/cspViolations';
import { openStudioStore } from '../storage/studioDb';

declare const self: DedicatedWorkerGlobalScope;

// Probe once at start: every later job and the UI badge see the same answer.
logCspViolations(self);

const backend = probeBackend({
  gpu: self.navigator.gpu ?? undefined,
  crossOriginIsolated: self.crossOriginIsolated,
  hardwareConcurrency: self.navigator.hardwareConcurrency,
});

// The studio's IndexedDB store, the page's too: the worker writes class images and checkpoints straight into it.
const store = openStudioStore();
// Compiled sessions and the text-embedding cache live as long as the worker (until unloadModels); trained
// checkpoints and imported models are models too, read from the store.
const checkpoints = checkpointModels(store);
const imported = importedModels(store);
const generation = new GenerationService(backend, (modelId, base) => checkpoints(modelId, base) ?? imported(modelId, base));
const model = (modelId: string) => generation.model(modelId);
const training = new TrainingService(generation, store, cropPhoto);

/** The crop side a prepareImage request asks for: its model's image size when it names one that is larger. */
async function cropSide({ resolution, forModel }: PrepareImageRequest): Promise<number> {
  if (!forModel) return resolution;
  const { width, height } = await generation.describeModel({ modelId: forModel });
  return Math.max(resolution, width, height);
}

serveJobs<StudioJobs>(
  self,
  {
    probeBackend: () => backend,
    prepareImage: async (request, context) => prepareImage({ ...request, resolution: await cropSide(request) }, context),
    loadModel: (request) => generation.loadModel(request),
    generate: (request, context) => generation.generate(request, context),
    measurePrompt: (text) => {
      if (typeof text !== 'string') throw new JobError('bad-input', 'the prompt must be text');
      return measurePrompt(ClipTokenizer.shared(), text);
    },
    unloadModels: () => generation.unloadModels(),
    generatePriors: (request, context) => generateClassPriors(generation, store, request, context),
    train: (request, context) => training.train(request, context),
    pauseTraining: (request) => training.pause(request),
    exportCheckpoint: async (request, context) => {
      const file = await exportCheckpoint(store, model, cropPhoto, request);
      context.transfer(file.bytes);
      return file;
    },
    importModel: (request) => importModel(store, model, request),
  },
  { codeOf: deviceLostCode },
);
