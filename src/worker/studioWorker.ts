import { JobClient } from '../protocol/client';
import type { StudioJobs } from '../protocol/studioJobs';

export type StudioClient = JobClient<StudioJobs>;

let client: StudioClient | undefined;

/** The page's one connection to the studio worker, started on first use. */
export function studioWorker(): StudioClient {
  client ??= new JobClient<StudioJobs>(
    new Worker(new URL('./studio.worker.ts', import.meta.url), { type: 'module', name: 'studio' }),
  );
  return client;
}
