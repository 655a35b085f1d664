/// <reference lib="webworker" />
import { GenerationService } from '../generation/generationService';
import { serveJobs } from '../protocol/server';
import type { StudioJobs } from '../protocol/studioJobs';
import { probeBackend } from './backendProbe';
import { prepareImage } from './imagePreparation';

declare const self: DedicatedWorkerGlobalScope;

// Probe once at start: every later job and the UI badge see the same answer.
const backend = probeBackend({
  gpu: self.navigator.gpu ?? undefined,
  crossOriginIsolated: self.crossOriginIsolated,
  hardwareConcurrency: self.navigator.hardwareConcurrency,
});

// Compiled sessions and the text-embedding cache live as long as the worker (until unloadModels).
const generation = new GenerationService();

serveJobs<StudioJobs>(self, {
  probeBackend: () => backend,
  prepareImage,
  loadModel: (request) => generation.loadModel(request),
  generate: (request, context) => generation.generate(request, context),
  unloadModels: () => generation.unloadModels(),
});
