import 'fake-indexeddb/auto';
import { createStore } from 'idb-keyval';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointModelId, type CheckpointInfo } from '../dreambooth/jobTypes';
import { presetSettings } from '../dreambooth/trainSettings';
import type { GenerateRequest, GenerateResult } from '../generation/jobTypes';
import { saveCheckpoint } from '../storage/dreamboothRecords';
import type { Subject } from '../subjects/subject';
import { pngBytes, testBackend } from './dreamboothTesting';
import { createGalleryStore } from './galleryStore';
import { createGenerateStore } from './generateStore';
import { checkpointPrompt, createModelChoicesStore } from './modelChoices';
import { createRecontextStore } from './recontextStore';
import { testWorker } from './testWorker';

const ports: { close(): void }[] = [];
afterEach(() => ports.splice(0).forEach((p) => p.close()));

const subject = (id: string, name: string): Subject => ({ id, name, classNoun: 'dog', identifier: 'zoqu', photos: [], createdAt: 0 });
const checkpoint = (subjectId: string, step: number): CheckpointInfo => ({
  id: `${subjectId}-${step}`,
  subjectId,
  runId: 'r',
  step,
  totalSteps: 400,
  bytes: 10,
  weightBytes: 4,
  createdAt: step,
  loss: 0.1,
  settings: presetSettings('object'),
  identifier: 'zoqu',
  classNoun: 'dog',
  baseModelId: 'builtin',
});

let dbCounter = 0;
function setup() {
  const store = createStore(`recontext-test-${dbCounter++}`, 'records');
  const requests: GenerateRequest[] = [];
  const worker = testWorker({
    generate: (request): GenerateResult => {
      requests.push(request);
      return {
        modelId: request.modelId ?? 'builtin',
        untrained: false,
        images: [{ png: pngBytes(requests.length), seed: request.seed, parameters: '' }],
        seeds: [request.seed],
        width: 64,
        height: 64,
        usage: { unetEvaluations: 2, modelMs: 1, textCache: { hits: 0, misses: 1 } },
        timings: { compileMs: 0, textEncodeMs: 0, denoiseMs: 0, decodeMs: 0, totalMs: 1 },
        backend: testBackend,
      };
    },
  });
  ports.push(worker);
  const client = worker.client;
  const gallery = createGalleryStore({ store });
  const generate = createGenerateStore({ worker: client, gallery, backendSetting: () => 'auto' });
  return { store, client, requests, gallery, generate, recontext: createRecontextStore({ generate }) };
}

describe('model choices', () => {
  it('lists the base model, then every subject’s checkpoints newest first, labelled "<subject> · step N"', async () => {
    const { store, client } = setup();
    const rex = subject('rex', 'Rex');
    const mug = subject('mug', 'Blue mug');
    await saveCheckpoint(store, { info: checkpoint('rex', 100), parts: { state: new Blob([new Uint8Array(2)]) } }, 3);
    await saveCheckpoint(store, { info: checkpoint('rex', 200), parts: { state: new Blob([new Uint8Array(2)]) } }, 3);
    await saveCheckpoint(store, { info: checkpoint('mug', 50), parts: { state: new Blob([new Uint8Array(2)]) } }, 3);
    const choices = createModelChoicesStore({ store, subjects: () => [rex, mug], worker: client });
    await choices.getState().refresh();
    expect(choices.getState().options.map((o) => [o.modelId, o.label])).toEqual([
      ['builtin', 'Base model'],
      [checkpointModelId('rex', 'rex-200'), 'Rex · step 200'],
      [checkpointModelId('rex', 'rex-100'), 'Rex · step 100'],
      [checkpointModelId('mug', 'mug-50'), 'Blue mug · step 50'],
    ]);
    expect(checkpointPrompt(checkpoint('rex', 200))).toBe('a photo of zoqu dog');
  });
});

describe('recontextualization grid', () => {
  it('renders the paper’s six prompts with the chosen checkpoint and one fixed seed, each kept in the gallery', async () => {
    const { requests, gallery, generate, recontext } = setup();
    generate.getState().chooseModel({ modelId: 'checkpoint:rex:rex-200', label: 'Rex · step 200' });
    generate.getState().setField('steps', '4');
    await recontext.getState().run('zoqu', 'dog');
    expect(requests.map((r) => r.prompt)).toEqual([
      'a zoqu dog in the jungle',
      'a zoqu dog in the snow',
      'a zoqu dog on the beach',
      'a zoqu dog with a city in the background',
      'a red zoqu dog',
      'a cube-shaped zoqu dog',
    ]);
    expect(new Set(requests.map((r) => `${r.modelId} ${r.seed} ${r.steps} ${r.numImages}`))).toEqual(new Set(['checkpoint:rex:rex-200 1234 4 1']));
    const s = recontext.getState();
    expect(s).toMatchObject({ running: false, modelLabel: 'Rex · step 200' });
    expect(s.cells.map((c) => c.status)).toEqual(Array(6).fill('done'));
    expect(gallery.getState().items.map((i) => i.model.label)).toEqual(Array(6).fill('Rex · step 200'));
  });
});
