import { JobError, isWireMessage, type Endpoint, type JobMap } from './jobs';

export interface RequestOptions<Progress> {
  onProgress?: (progress: Progress) => void;
  /** Aborting cancels the job in the worker and rejects the promise with a `cancelled` JobError at once. */
  signal?: AbortSignal;
  /** Buffers in the payload to move rather than copy. */
  transfer?: Transferable[];
}

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

  constructor(private readonly endpoint: Endpoint) {
    endpoint.addEventListener('message', (event) => this.receive(event.data));
  }

  request<Type extends keyof Jobs & string>(
    type: Type,
    payload: Jobs[Type]['payload'],
    options: RequestOptions<Jobs[Type]['progress']> = {},
  ): Promise<Jobs[Type]['result']> {
    const { signal, onProgress, transfer = [] } = options;
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
        break;
      default:
        break; // requests and cancels travel the other way
    }
  }
}
