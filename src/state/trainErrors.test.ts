import { describe, expect, it } from 'vitest';
import { stoppedAt } from '../dreambooth/trainingJob';
import { DeviceLostError } from '../engine/runtime/gpuErrors';
import { JobError } from '../protocol/jobs';
import { explainTrainFailure } from './trainErrors';

describe('explainTrainFailure', () => {
  it('a lost device names the step and the checkpoint, and says Resume starts a fresh worker', () => {
    const wire = stoppedAt(new DeviceLostError('the GPU device was lost (unknown: driver reset)'), 7, { step: 5 } as Parameters<typeof stoppedAt>[2]);
    const failure = explainTrainFailure(JobError.fromWire(wire.toWire()));
    expect(wire.code).toBe('device-lost');
    expect(failure.reason).toMatch(/^Training stopped after step 7: the GPU device was lost .*the checkpoint of step 5 is saved/);
    expect(failure.fix).toMatch(/Resume starts a fresh worker/);
  });

  it('any other failed step keeps the failed code and the generic Resume advice', () => {
    const wire = stoppedAt(new Error('the loss is NaN'), 3, null);
    expect(wire.code).toBe('failed');
    expect(explainTrainFailure(wire).fix).toMatch(/^Resume continues from the last checkpoint/);
  });
});
