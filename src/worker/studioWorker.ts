import { JobClient } from '../protocol/client';
import type { StudioJobs } from '../protocol/studioJobs';

export type StudioClient = JobClient<StudioJobs>;

let client: StudioClient | undefined;

/**
 * The page's one connection to the studio worker, started on first use. If the worker dies, its pending jobs
 * fail (see JobClient) and the worker is dropped, so the next call starts a fresh one.
 */
export function studioWorker(): StudioClient {
  if (client) return client;
  const worker = new Worker(new URL('./studio.worker.ts', import.meta.url), { type: 'module', name: 'studio' });
  const started: StudioClient = new JobClient<StudioJobs>(worker, () => {
    worker.terminate();
    if (client === started) client = undefined;
  });
  client = started;
  return started;
}
