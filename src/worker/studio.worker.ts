/// <reference lib="webworker" />
import { JobError } from '../protocol/jobs';
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

// Until the generation pipeline (src/generation) lands, its jobs answer with a clear failure.
const generationPending = () => {
  throw new JobError('failed', 'Image generation is not available in this build yet');
};

serveJobs<StudioJobs>(self, {
  probeBackend: () => backend,
  prepareImage,
  loadModel: generationPending,
  generate: generationPending,
  unloadModels: generationPending,
});
