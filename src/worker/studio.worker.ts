/// <reference lib="webworker" />
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

serveJobs<StudioJobs>(self, {
  probeBackend: () => backend,
  prepareImage,
});
