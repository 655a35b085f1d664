import { JobClient, type RequestOptions } from './client';
import type { Endpoint, JobMap } from './jobs';

/** A worker the client can start: its endpoint, and how to end it. */
export interface StartedEndpoint {
  endpoint: Endpoint;
  terminate(): void;
}

/**
 * A job client that outlives its worker: when the worker dies or loses its GPU device (see JobClient), that worker
 * is ended and the next request starts a fresh one. Every store holds this one object, so none keeps a dead client.
 */
export class RestartingJobClient<Jobs extends JobMap> {
  private current: JobClient<Jobs> | undefined;
  private started = 0;
  private readonly endedListeners = new Set<() => void>();

  constructor(private readonly start: () => StartedEndpoint) {}

  request<Type extends keyof Jobs & string>(
    type: Type,
    payload: Jobs[Type]['payload'],
    options?: RequestOptions<Jobs[Type]['progress']>,
  ): Promise<Jobs[Type]['result']> {
    return this.client().request(type, payload, options);
  }

  /**
   * Calls `listener` each time a worker has been ended (it died or lost its GPU device), e.g. to ask the next one what
   * it computes on. Returns the unsubscribe.
   */
  onWorkerEnded(listener: () => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  /** Workers started so far (for tests and diagnostics). */
  get workersStarted(): number {
    return this.started;
  }

  private client(): JobClient<Jobs> {
    if (this.current) return this.current;
    const { endpoint, terminate } = this.start();
    this.started++;
    const client: JobClient<Jobs> = new JobClient<Jobs>(endpoint, () => {
      terminate();
      if (this.current === client) this.current = undefined;
      for (const listener of this.endedListeners) listener();
    });
    this.current = client;
    return client;
  }
}
