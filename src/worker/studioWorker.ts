import { RestartingJobClient } from '../protocol/restartingClient';
import type { StudioJobs } from '../protocol/studioJobs';

/** What the page's stores need of the worker connection (tests pass a JobClient over a MessageChannel). */
export type StudioClient = Pick<RestartingJobClient<StudioJobs>, 'request'>;

let client: RestartingJobClient<StudioJobs> | undefined;

/**
 * The page's one connection to the studio worker, started on first request. A worker that crashes or loses its GPU
 * device is terminated and the next request starts a fresh one; `onWorkerEnded` tells the page (the backend store
 * asks the fresh worker what it computes on).
 */
export function studioWorker(): RestartingJobClient<StudioJobs> {
  client ??= new RestartingJobClient<StudioJobs>(() => {
    const worker = new Worker(new URL('./studio.worker.ts', import.meta.url), { type: 'module', name: 'studio' });
    return { endpoint: worker, terminate: () => worker.terminate() };
  });
  return client;
}
