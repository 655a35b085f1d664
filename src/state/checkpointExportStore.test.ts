import { afterEach, describe, expect, it } from 'vitest';
import type { CheckpointInfo, ExportCheckpointRequest } from '../dreambooth/jobTypes';
import { presetSettings } from '../dreambooth/trainSettings';
import { JobError } from '../protocol/jobs';
import { createCheckpointExportStore, exportFormats } from './checkpointExportStore';
import { testWorker } from './testWorker';

const ports: { close(): void }[] = [];
afterEach(() => ports.splice(0).forEach((p) => p.close()));

const checkpoint = (unet: 'lora' | 'full', textEncoder: 'frozen' | 'identifier' | 'full' = 'frozen'): CheckpointInfo => ({
  id: `c-${unet}`,
  subjectId: 'rex',
  runId: 'r',
  step: 6,
  totalSteps: 6,
  bytes: 10,
  weightBytes: 4,
  createdAt: 0,
  loss: 0.1,
  settings: { ...presetSettings('quick'), unet, textEncoder },
  identifier: 'zovy',
  classNoun: 'dog',
  baseModelId: 'builtin',
});

/** The export store against a worker that answers with a file, or refuses a full checkpoint's LoRA as the real job does. */
function setup() {
  const requests: ExportCheckpointRequest[] = [];
  const worker = testWorker({
    exportCheckpoint(request) {
      requests.push(request);
      if (request.checkpointId === 'c-full' && request.format !== 'diffusers-folder') {
        throw new JobError('bad-input', 'this run trained whole weights, which no LoRA can carry: export the model', 'format');
      }
      return { fileName: 'rex-zovy-step6-lora.safetensors', mime: 'application/octet-stream', bytes: new Uint8Array([1, 2, 3]).buffer };
    },
  });
  ports.push(worker);
  return { requests, exports: createCheckpointExportStore({ worker: worker.client }) };
}

describe('checkpoint exports', () => {
  it('offers LoRA files for adapter runs and the model for runs that trained whole weights; every run as a training job', () => {
    expect(exportFormats(checkpoint('lora'))).toEqual(['lora-peft', 'lora-kohya', 'training-job']);
    expect(exportFormats(checkpoint('lora', 'identifier'))).toEqual(['lora-peft', 'lora-kohya', 'training-job']);
    expect(exportFormats(checkpoint('lora', 'full'))).toEqual(['diffusers-folder', 'training-job']);
    expect(exportFormats(checkpoint('full'))).toEqual(['diffusers-folder', 'training-job']);
  });

  it('asks the worker for the checkpoint’s file and hands it back to download', async () => {
    const { requests, exports } = setup();
    const file = await exports.getState().exportCheckpoint(checkpoint('lora'), 'lora-kohya');
    expect(requests).toEqual([{ subjectId: 'rex', checkpointId: 'c-lora', format: 'lora-kohya' }]);
    expect(file?.fileName).toBe('rex-zovy-step6-lora.safetensors');
    expect(new Uint8Array(file!.bytes)).toEqual(new Uint8Array([1, 2, 3]));
    expect(exports.getState()).toMatchObject({ running: null, error: null });
  });

  it('shows the worker’s reason when an export fails', async () => {
    const { exports } = setup();
    expect(await exports.getState().exportCheckpoint(checkpoint('full'), 'lora-peft')).toBeNull();
    expect(exports.getState().error).toBe('The export failed: this run trained whole weights, which no LoRA can carry: export the model');
    expect(exports.getState().running).toBeNull();
  });
});
