/**
 * Test double at the worker boundary for the page's stores: a JobClient over a real MessageChannel whose other end
 * serves the given jobs with the real job protocol; any other job fails with "not used", so a store that asks for
 * one the test did not expect says so.
 */
import { JobClient } from '../protocol/client';
import type { Endpoint } from '../protocol/jobs';
import { serveJobs, type JobHandlers } from '../protocol/server';
import type { StudioJobs } from '../protocol/studioJobs';

// Every job, so that a job added to StudioJobs fails to typecheck here until the double knows it.
const JOBS = {
  probeBackend: true,
  prepareImage: true,
  loadModel: true,
  generate: true,
  measurePrompt: true,
  unloadModels: true,
  generatePriors: true,
  train: true,
  pauseTraining: true,
  exportCheckpoint: true,
  importModel: true,
} satisfies Record<keyof StudioJobs, true>;

export function testWorker(handlers: Partial<JobHandlers<StudioJobs>>): { client: JobClient<StudioJobs>; close(): void } {
  const fail = () => {
    throw new Error('not used');
  };
  const { port1, port2 } = new MessageChannel();
  serveJobs<StudioJobs>(port2 as unknown as Endpoint, {
    ...(Object.fromEntries(Object.keys(JOBS).map((j) => [j, fail])) as unknown as JobHandlers<StudioJobs>),
    ...handlers,
  });
  port1.start();
  port2.start();
  return { client: new JobClient<StudioJobs>(port1 as unknown as Endpoint), close: () => (port1.close(), port2.close()) };
}
