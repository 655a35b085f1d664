import { JobError, isWireMessage, type Endpoint, type JobErrorCode, type JobMap } from './jobs';

export interface JobContext<Progress> {
  /** Aborted when the caller cancels; long handlers check it between steps and pass it on. */
  signal: AbortSignal;
  progress(progress: Progress): void;
  /** Buffers in the result to move rather than copy. */
  transfer(...transferables: Transferable[]): void;
}

export type JobHandler<Payload, Result, Progress> = (payload: Payload, context: JobContext<Progress>) => Result | Promise<Result>;

export type JobHandlers<Jobs extends JobMap> = {
  [Type in keyof Jobs]: JobHandler<Jobs[Type]['payload'], Jobs[Type]['result'], Jobs[Type]['progress']>;
};

export interface ServeOptions {
  /** The code for an error a handler threw that is not a JobError (default 'failed'). */
  codeOf?: (cause: unknown) => JobErrorCode | undefined;
}

/** The worker side of the job protocol: routes each request to its handler and answers with result or error. */
export function serveJobs<Jobs extends JobMap>(endpoint: Endpoint, handlers: JobHandlers<Jobs>, options: ServeOptions = {}): void {
  const running = new Map<number, AbortController>();

  endpoint.addEventListener('message', (event) => {
    const message: unknown = event.data;
    if (!isWireMessage(message)) return;
    if (message.kind === 'cancel') {
      running.get(message.id)?.abort();
      return;
    }
    if (message.kind !== 'request') return;

    const { id, type, payload } = message;
    const handler = Object.hasOwn(handlers, type) ? handlers[type] : undefined;
    if (!handler) {
      const error = new JobError('unknown-job', `The worker has no job named "${type}"`);
      endpoint.postMessage({ kind: 'error', id, error: error.toWire() }, []);
      return;
    }

    const controller = new AbortController();
    running.set(id, controller);
    const transfers: Transferable[] = [];
    const context: JobContext<unknown> = {
      signal: controller.signal,
      progress: (progress) => {
        if (!controller.signal.aborted) endpoint.postMessage({ kind: 'progress', id, progress }, []);
      },
      transfer: (...transferables) => transfers.push(...transferables),
    };

    Promise.resolve()
      .then(() => handler(payload, context))
      .then(
        (result) => {
          // A cancelled caller has already given up on the answer.
          if (!controller.signal.aborted) endpoint.postMessage({ kind: 'result', id, result }, transfers);
        },
        (cause: unknown) => {
          if (controller.signal.aborted) return;
          endpoint.postMessage({ kind: 'error', id, error: toJobError(cause, options.codeOf?.(cause)).toWire() }, []);
        },
      )
      .finally(() => running.delete(id));
  });
}

function toJobError(cause: unknown, code: JobErrorCode = 'failed'): JobError {
  if (cause instanceof JobError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new JobError(code, message || 'The job failed without a message');
}
