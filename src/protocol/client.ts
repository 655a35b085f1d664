import { JobError, isWireMessage, type Endpoint, type JobMap } from './jobs';

export interface RequestOptions<Progress> {
  onProgress?: (progress: Progress) => void;
  /** Aborting cancels the job in the worker and rejects the promise with a `cancelled` JobError at once. */
  signal?: AbortSignal;
  /** Buffers in the payload to move rather than copy. */
  transfer?: Transferable[];
}

const STARTS_AGAIN = 'Try again: the studio starts a fresh worker (saved work is kept).';

interface Pending {
  resolve(result: unknown): void;
  reject(error: unknown): void;
  onProgress?: (progress: unknown) => void;
  detach(): void;
}

/** The calling side of the job protocol: one `request` per job, typed by the shared job map. */
export class JobClient<Jobs extends JobMap> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Set once the endpoint has failed; every request from then on rejects with it. */
  private stopped: JobError | undefined;

  /**
   * `onStopped` runs once when the endpoint reports an `error` or `messageerror`, or answers a job with `device-lost`,
   * after pending jobs are rejected.
   */
  constructor(
    private readonly endpoint: Endpoint,
    private readonly onStopped?: (error: JobError) => void,
  ) {
    endpoint.addEventListener('message', (event) => this.receive(event.data));
    endpoint.addEventListener('error', (event) => this.stop(event));
    endpoint.addEventListener('messageerror', (event) => this.stop(event));
  }

  request<Type extends keyof Jobs & string>(
    type: Type,
    payload: Jobs[Type]['payload'],
    options: RequestOptions<Jobs[Type]['progress']> = {},
  ): Promise<Jobs[Type]['result']> {
    const { signal, onProgress, transfer = [] } = options;
    if (this.stopped) return Promise.reject(this.stopped);
    if (signal?.aborted) return Promise.reject(new JobError('cancelled', `${type} was cancelled before it started`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.settle(id);
        this.endpoint.postMessage({ kind: 'cancel', id }, []);
        reject(new JobError('cancelled', `${type} was cancelled`));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve,
        reject,
        onProgress: onProgress as ((progress: unknown) => void) | undefined,
        detach: () => signal?.removeEventListener('abort', onAbort),
      });
      this.endpoint.postMessage({ kind: 'request', id, type, payload }, transfer);
    });
  }

  /** Number of jobs still waiting for an answer (for tests and diagnostics). */
  get inFlight(): number {
    return this.pending.size;
  }

  private settle(id: number): Pending | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    entry.detach();
    return entry;
  }

  /**
   * The worker crashed (out of memory, a module that failed to load) or an answer could not be read: no pending
   * job will ever be answered, so each is rejected rather than left hanging.
   */
  private stop(event: Event): void {
    // A Worker's `error` is an ErrorEvent carrying the reason; Node has no ErrorEvent class, so read it by shape.
    const reason = (event as Partial<ErrorEvent>).message;
    const detail = typeof reason === 'string' && reason !== '' ? ` (${reason})` : '';
    this.shutDown(new JobError('failed', `The studio worker stopped${detail}. ${STARTS_AGAIN}`));
  }

  private shutDown(error: JobError): void {
    if (this.stopped) return;
    this.stopped = error;
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(error);
    this.onStopped?.(error);
  }

  private receive(data: unknown): void {
    if (!isWireMessage(data)) return;
    switch (data.kind) {
      case 'progress':
        this.pending.get(data.id)?.onProgress?.(data.progress);
        break;
      case 'result':
        this.settle(data.id)?.resolve(data.result);
        break;
      case 'error':
        this.settle(data.id)?.reject(JobError.fromWire(data.error));
        // The worker's onnxruntime is stuck on the lost device: nothing it runs from now on would finish.
        if (data.error.code === 'device-lost') this.shutDown(new JobError('failed', `The studio worker lost its GPU device. ${STARTS_AGAIN}`));
        break;
      default:
        break; // requests and cancels travel the other way
    }
  }
}
