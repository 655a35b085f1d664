import { DeviceLostError } from '../engine/runtime/gpuErrors';

/**
 * The job error code for a handler's failure: a lost GPU device leaves this worker's onnxruntime unable to run
 * again, so it is answered as 'device-lost' and the page replaces the worker (RestartingJobClient).
 */
export const deviceLostCode = (cause: unknown) => (cause instanceof DeviceLostError ? ('device-lost' as const) : undefined);
