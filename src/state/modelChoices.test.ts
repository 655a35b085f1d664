import 'fake-indexeddb/auto';
import { createStore, keys } from 'idb-keyval';
import { afterEach, describe, expect, it } from 'vitest';
import { importedModelId, type ImportModelRequest } from '../dreambooth/jobTypes';
import { JobError } from '../protocol/jobs';
import { saveImportedModel, type ImportedModelInfo } from '../storage/importedModels';
import { createModelChoicesStore, isModelFile } from './modelChoices';
import { testWorker } from './testWorker';

const ports: { close(): void }[] = [];
afterEach(() => ports.splice(0).forEach((p) => p.close()));

const REFUSAL = 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight: rank 8 here, but the other layers have rank 4';
let dbCounter = 0;

/** The model store against a worker whose import job stores what it gets (as the real one does once the files fit) or refuses `bad.safetensors`. */
function setup() {
  const store = createStore(`model-choices-test-${dbCounter++}`, 'records');
  const requests: ImportModelRequest[] = [];
  const worker = testWorker({
    async importModel(request) {
      requests.push(request);
      if (request.files.some((f) => f.path === 'bad.safetensors')) throw new JobError('bad-input', REFUSAL, 'files');
      const info: ImportedModelInfo = {
        id: `m${requests.length}`,
        kind: 'lora',
        name: 'rex',
        baseModelId: 'builtin',
        identifier: 'zovy',
        classNoun: 'dog',
        files: request.files.map((f) => ({ path: f.path, bytes: f.bytes.byteLength })),
        createdAt: requests.length,
      };
      await saveImportedModel(store, { info, files: new Map(request.files.map((f) => [f.path, new Blob([f.bytes])])) });
      return info;
    },
  });
  ports.push(worker);
  return { store, requests, choices: createModelChoicesStore({ store, subjects: () => [], worker: worker.client }) };
}

const file = (name: string, text: string) => new File([text], name);

describe('imported models in the model picker', () => {
  it('imports a LoRA with its embedding: the worker gets both files, the picker lists it with its instance prompt words', async () => {
    const { requests, choices } = setup();
    const option = await choices.getState().importFiles([file('rex-zovy-step6-lora.safetensors', 'lora'), file('zovy.safetensors', 'e')]);
    expect(requests[0]!.files.map((f) => [f.path, f.bytes.byteLength])).toEqual([
      ['rex-zovy-step6-lora.safetensors', 4],
      ['zovy.safetensors', 1],
    ]);
    expect(option).toMatchObject({ modelId: importedModelId('m1'), label: 'rex (imported)', trigger: { identifier: 'zovy', classNoun: 'dog' } });
    expect(choices.getState().options.map((o) => o.label)).toEqual(['Base model', 'rex (imported)']);
    expect(choices.getState().importError).toBeNull();
    expect(choices.getState().importing).toBeNull();
  });

  it('shows the worker’s reason for a refused file, and storage and the picker stay as they were', async () => {
    const { store, choices } = setup();
    await choices.getState().importFiles([file('good.safetensors', 'lora')]);
    const before = (await keys(store)).map(String).sort();
    const option = await choices.getState().importFiles([file('bad.safetensors', 'lora')]);
    expect(option).toBeNull();
    expect(choices.getState().importError).toBe(`Not imported: ${REFUSAL}`);
    expect((await keys(store)).map(String).sort()).toEqual(before);
    expect(choices.getState().options.map((o) => o.label)).toEqual(['Base model', 'rex (imported)']);
  });

  it('deletes an imported model from storage and the picker', async () => {
    const { store, choices } = setup();
    const option = await choices.getState().importFiles([file('good.safetensors', 'lora')]);
    await choices.getState().deleteImported(option!.imported!.id);
    expect(await keys(store)).toEqual([]);
    expect(choices.getState().options.map((o) => o.modelId)).toEqual(['builtin']);
  });

  it('tells model files from batch files on the Generate step', () => {
    expect(isModelFile(file('x.safetensors', ''))).toBe(true);
    expect(isModelFile(file('model.ZIP', ''))).toBe(true);
    expect(isModelFile(file('batch.jsonl', ''))).toBe(false);
  });
});
