/**
 * A typed job protocol over any message endpoint (a Worker, a worker's global scope, a MessagePort).
 *
 * A job kind is one entry in a {@link JobMap}: its payload, result and progress event types. Both sides share
 * the map, so adding a job means adding an entry and a handler; the wire format below never changes.
 */

/** The types one job kind exchanges. `Progress` is `never` for jobs that report no progress. */
export interface JobSpec<Payload, Result, Progress = never> {
  payload: Payload;
  result: Result;
  progress: Progress;
}

// Only the map's shape is constrained here; every use site is typed through a concrete map.
export type JobMap = { [type: string]: JobSpec<unknown, unknown, unknown> };

/**
 * Why a job failed, so the UI can tell a cancelled job or bad input from a crash. `device-lost`: the worker's GPU
 * device was lost; onnxruntime in that worker cannot run again, so the client replaces the worker.
 */
export type JobErrorCode = 'cancelled' | 'bad-input' | 'unknown-job' | 'failed' | 'device-lost';

export interface SerializedJobError {
  code: JobErrorCode;
  message: string;
  /** The field or part of the input the message is about, where there is one. */
  field?: string;
}

export type WireMessage =
  | { kind: 'request'; id: number; type: string; payload: unknown }
  | { kind: 'cancel'; id: number }
  | { kind: 'progress'; id: number; progress: unknown }
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number; error: SerializedJobError };

/** The error a job's promise rejects with; also what handlers throw to report bad input. */
export class JobError extends Error {
  override name = 'JobError';
  constructor(
    readonly code: JobErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  toWire(): SerializedJobError {
    return this.field === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, field: this.field };
  }

  static fromWire(error: SerializedJobError): JobError {
    return new JobError(error.code, error.message, error.field);
  }
}

/** The part of Worker / DedicatedWorkerGlobalScope / MessagePort the protocol uses. */
export interface Endpoint {
  postMessage(message: WireMessage, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  /** `error`: the worker died or failed to load; `messageerror`: an answer could not be deserialized. */
  addEventListener(type: 'error' | 'messageerror', listener: (event: Event) => void): void;
}

export function isWireMessage(data: unknown): data is WireMessage {
  return (
    typeof data === 'object' && data !== null && typeof (data as { kind?: unknown }).kind === 'string' && typeof (data as { id?: unknown }).id === 'number'
  );
}
