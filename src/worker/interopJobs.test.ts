import 'fake-indexeddb/auto';
import { unzipSync, zipSync } from 'fflate';
import { createStore, keys, set, type UseStore } from 'idb-keyval';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cropPhoto } from '../cli/photoPixels';
import { bindIdentifier } from '../dreambooth/identifierBinding';
import { importedModelId, type CheckpointInfo, type ExportFormat, type ImportFile } from '../dreambooth/jobTypes';
import { personalizedModel, type TrainedValues } from '../dreambooth/personalizedModel';
import { IDENTIFIER_EMBEDDINGS, UNET_PREFIX } from '../dreambooth/trainGraph';
import { presetSettings, type TrainSettings } from '../dreambooth/trainSettings';
import type { LoraAdapter } from '../engine/lora/lora';
import { STATE } from '../engine/optim/trainStep';
import { builtinModelSource, loadGenerationModel, type GenerationModel } from '../generation/generationModel';
import { PEFT_LORA_FILE } from '../interop/checkpointExport';
import { componentTensors } from '../model/componentTensors';
import { parseSafetensors, readSafetensors, writeSafetensors, type Float32Tensor } from '../model/safetensors';
import { JobError } from '../protocol/jobs';
import { checkpointPartKey, saveCheckpoint } from '../storage/dreamboothRecords';
import { listImportedModels } from '../storage/importedModels';
import { SUBJECT_INDEX_KEY, subjectKey } from '../storage/subjectRecords';
import { exportCheckpoint } from './exportCheckpoint';
import { importedModels } from './importedModels';
import { importModel } from './importModel';

// The export and import jobs and the `imported:` resolver on the real built-in model (from models/builtin) and real
// IndexedDB (fake-indexeddb), with a checkpoint file written as the trainer writes one.

let base: GenerationModel;
const loader = async (id: string) => {
  if (id !== 'builtin') throw new Error(`no model ${id}`);
  return base;
};
beforeAll(async () => {
  base = await loadGenerationModel(builtinModelSource());
});

let store: UseStore;
let dbCounter = 0;
beforeEach(() => {
  store = createStore(`interop-jobs-${dbCounter++}`, 'records');
});
const storedKeys = async () => (await keys(store)).map(String).sort();

const IDENTIFIER = 'zovy';

/** Seeded values in [-0.05, 0.05): the deltas a few training steps leave. */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) / 10;
  });
}

/** Trained values as a LoRA run leaves them (rank-2 adapters on the first attention projections, the identifier's row) or a full run (one whole UNet weight). */
function trainedValues(kind: 'lora' | 'full'): TrainedValues {
  const unet = componentTensors(base.folder, 'unet');
  const tensors = new Map<string, Float32Array>();
  const adapters: LoraAdapter[] = [];
  const targets = [...unet.keys()].filter((name) => /attn[12]\.to_[qv]\.weight$/.test(name)).slice(0, 3);
  if (kind === 'lora') {
    targets.forEach((name, i) => {
      const [out, fanIn] = unet.get(name)!.shape as [number, number];
      const module = name.slice(0, -'.weight'.length);
      const ad: LoraAdapter = {
        base: `${UNET_PREFIX}${name}`,
        a: `${UNET_PREFIX}${module}.lora_A.weight`,
        b: `${UNET_PREFIX}${module}.lora_B.weight`,
        rank: 2,
        alpha: 2,
      };
      adapters.push(ad);
      tensors.set(ad.a, values(2 * fanIn, 10 + i)).set(ad.b, values(out * 2, 20 + i));
    });
  } else {
    const w = unet.get(targets[0]!)!;
    tensors.set(`${UNET_PREFIX}${targets[0]}`, values(w.data.length, 5));
  }
  const { rows } = bindIdentifier(base, IDENTIFIER);
  tensors.set(IDENTIFIER_EMBEDDINGS, values(rows.length * base.folder.textEncoder.config.hidden_size, 7));
  return { tensors, adapters, identifierRows: rows };
}

/** The checkpoint file the trainer writes for these values (src/dreambooth/trainer.ts `checkpoint()`). */
function checkpointFile(trained: TrainedValues, settings: TrainSettings, step: number): Uint8Array {
  let offset = 0;
  const layout = [...trained.tensors].map(([name, data]) => {
    const entry = { name, shape: [data.length], offset, size: data.length };
    offset += data.length;
    return entry;
  });
  const params = new Float32Array(offset);
  layout.forEach((e) => params.set(trained.tensors.get(e.name)!, e.offset));
  const state = new Map<string, Float32Tensor>(
    [STATE.params, STATE.m, STATE.v].map((n) => [n, { shape: [offset], data: n === STATE.params ? params : new Float32Array(offset) }]),
  );
  const meta = {
    format: 'dreambooth-studio-checkpoint',
    version: 1,
    step,
    settings,
    dataHash: 'test',
    sampler: {},
    layout,
    adapters: trained.adapters,
    identifierRows: trained.identifierRows,
  };
  return writeSafetensors(state, { metadata: { format: 'pt', dreambooth_studio: JSON.stringify(meta) } });
}

async function storeCheckpoint(kind: 'lora' | 'full'): Promise<{ info: CheckpointInfo; trained: TrainedValues }> {
  const settings: TrainSettings = { ...presetSettings('quick'), unet: kind, textEncoder: 'identifier' };
  const trained = trainedValues(kind);
  const file = checkpointFile(trained, settings, 6);
  const info: CheckpointInfo = {
    id: `ckpt-${kind}`,
    subjectId: 'rex',
    runId: 'run',
    step: 6,
    totalSteps: 6,
    bytes: file.byteLength,
    weightBytes: file.byteLength / 3,
    createdAt: 1,
    loss: 0.1,
    settings,
    identifier: IDENTIFIER,
    classNoun: 'dog',
    baseModelId: 'builtin',
  };
  await saveCheckpoint(store, { info, parts: { state: new Blob([file as Uint8Array<ArrayBuffer>]) } }, 3);
  await set(SUBJECT_INDEX_KEY, { order: ['rex'], activeId: 'rex' }, store);
  await set(subjectKey('rex'), { id: 'rex', name: 'Rex the dog', classNoun: 'dog', identifier: IDENTIFIER, photos: [], createdAt: 0 }, store);
  return { info, trained };
}

const exportAs = (info: CheckpointInfo, format: ExportFormat) =>
  exportCheckpoint(store, loader, cropPhoto, { subjectId: info.subjectId, checkpointId: info.id, format });
const asImport = (path: string, bytes: Uint8Array): ImportFile => ({ path, bytes: bytes.slice().buffer });
const resolve = (modelId: string) => importedModels(store)(modelId, loader);

/** The largest difference between two models' UNet and text-encoder weights. */
const TOKEN_TABLE = 'text_model.embeddings.token_embedding.weight';

function maxWeightDifference(a: GenerationModel, b: GenerationModel, compared: (name: string) => boolean = () => true): number {
  let worst = 0;
  for (const part of ['unet', 'text_encoder'] as const) {
    const wa = componentTensors(a.folder, part);
    const wb = componentTensors(b.folder, part);
    for (const [name, t] of wa) {
      if (!compared(name)) continue;
      const other = wb.get(name)!.data;
      for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i]! - other[i]!));
    }
  }
  return worst;
}

describe('exportCheckpoint', () => {
  it('writes a LoRA with its embedding as <subject>-<identifier>-step<N>-lora.zip (diffusers’ file name, the embedding named for its word)', async () => {
    const { info } = await storeCheckpoint('lora');
    const file = await exportAs(info, 'lora-peft');
    expect(file.fileName).toBe('rex-the-dog-zovy-step6-lora.zip');
    expect(Object.keys(unzipSync(new Uint8Array(file.bytes))).sort()).toEqual([PEFT_LORA_FILE, 'zovy.safetensors']);
  });

  it('writes kohya key names for A1111', async () => {
    const { info } = await storeCheckpoint('lora');
    const file = await exportAs(info, 'lora-kohya');
    expect(file.fileName).toBe('rex-the-dog-zovy-step6-lora-kohya.zip');
    const lora = Object.entries(unzipSync(new Uint8Array(file.bytes))).find(([name]) => name !== 'zovy.safetensors')![1];
    expect([...readSafetensors(lora).keys()].every((k) => k.startsWith('lora_unet_'))).toBe(true);
  });

  it('refuses a LoRA of a fully trained checkpoint, and a folder of a LoRA one, saying which to export', async () => {
    const { info } = await storeCheckpoint('full');
    await expect(exportAs(info, 'lora-peft')).rejects.toThrow(/export the model/);
    const lora = await storeCheckpoint('lora');
    await expect(exportAs(lora.info, 'diffusers-folder')).rejects.toThrow(/export its LoRA/);
  });

  it('writes the training job with the base model and a train.sh', async () => {
    const { info } = await storeCheckpoint('lora');
    const file = await exportAs(info, 'training-job');
    const names = Object.keys(unzipSync(new Uint8Array(file.bytes)));
    expect(file.fileName).toBe('rex-the-dog-zovy-step6-training-job.zip');
    expect(names).toEqual(expect.arrayContaining(['train.sh', 'README.md', 'model/unet/config.json', 'model/scheduler/scheduler_config.json']));
  });

  it('says so when the checkpoint is gone', async () => {
    const { info } = await storeCheckpoint('lora');
    await set(checkpointPartKey(info.id, 'state'), new Blob(['cut']), store);
    await expect(exportAs(info, 'lora-peft')).rejects.toThrow(/no longer stored whole/);
  });
});

describe('importModel and the imported: resolver', () => {
  it('imports the exported LoRA zip; sampling it uses the checkpoint’s own weights and identifier', async () => {
    const { info, trained } = await storeCheckpoint('lora');
    const file = await exportAs(info, 'lora-peft');
    const imported = await importModel(store, loader, { files: [{ path: file.fileName, bytes: file.bytes }] });
    expect(imported).toMatchObject({ kind: 'lora', name: 'rex-the-dog-zovy-step6-lora', identifier: IDENTIFIER, classNoun: 'dog', baseModelId: 'builtin' });
    expect((await listImportedModels(store)).map((m) => m.id)).toEqual([imported.id]);

    const model = await resolve(importedModelId(imported.id))!;
    const binding = bindIdentifier(base, IDENTIFIER);
    const original = personalizedModel(base, trained, { id: 'checkpoint', key: 'checkpoint', tokenizer: binding.tokenizer });
    expect(maxWeightDifference(model, original)).toBeLessThan(1e-6);
    expect(model.tokenizer.tokenize('a photo of zovy dog')).toEqual(original.tokenizer.tokenize('a photo of zovy dog'));
  });

  it('imports kohya files dropped as two .safetensors (the larger is the LoRA)', async () => {
    const { info } = await storeCheckpoint('lora');
    const entries = Object.entries(unzipSync(new Uint8Array((await exportAs(info, 'lora-kohya')).bytes)));
    const imported = await importModel(store, loader, { files: entries.map(([name, bytes]) => asImport(name, bytes)) });
    expect(imported.identifier).toBe(IDENTIFIER);
    await expect(resolve(importedModelId(imported.id))!).resolves.toMatchObject({ id: importedModelId(imported.id) });
  });

  it('imports a fully trained checkpoint’s diffusers folder (.zip, or the folder’s files) and samples the same weights', async () => {
    const { info, trained } = await storeCheckpoint('full');
    const file = await exportAs(info, 'diffusers-folder');
    const imported = await importModel(store, loader, { files: [{ path: file.fileName, bytes: file.bytes }] });
    expect(imported.kind).toBe('diffusers');
    const model = await resolve(importedModelId(imported.id))!;
    const original = personalizedModel(base, trained, { id: 'c', key: 'c', tokenizer: bindIdentifier(base, IDENTIFIER).tokenizer });
    // The folder reads CLIP's ids (src/interop/clipVocabularyExport.ts): every weight is the original's but the token
    // table, and a prompt's tokens pick the same embedding rows, the identifier's trained one included.
    expect(maxWeightDifference(model, original, (name) => name !== TOKEN_TABLE)).toBe(0);
    const prompt = 'a photo of zovy dog';
    const rowsOf = (m: GenerationModel) => {
      const table = componentTensors(m.folder, 'text_encoder').get(TOKEN_TABLE)!;
      const dim = table.shape[1]!;
      return Array.from(m.tokenizer.tokenize(prompt), (id) => Array.from(table.data.subarray(id * dim, (id + 1) * dim)));
    };
    expect(model.tokenizer.kind).toBe('clip');
    expect(rowsOf(model)).toEqual(rowsOf(original));

    // The same folder chosen as a directory: its files arrive with the folder's name in front of each path.
    const folder = Object.entries(unzipSync(new Uint8Array(file.bytes))).map(([path, bytes]) => asImport(`rex-model/${path}`, bytes));
    const fromFolder = await importModel(store, loader, { files: folder });
    expect(fromFolder).toMatchObject({ kind: 'diffusers', name: 'rex-model' });
    expect(maxWeightDifference(await resolve(importedModelId(fromFolder.id))!, model)).toBe(0);
  });

  describe('refuses files that do not fit, naming the key and the reason, and stores nothing', () => {
    async function loraFile(): Promise<Map<string, Float32Tensor> & { metadata: Record<string, string> }> {
      const { info } = await storeCheckpoint('lora');
      const zip = unzipSync(new Uint8Array((await exportAs(info, 'lora-peft')).bytes));
      const bytes = zip[PEFT_LORA_FILE]!;
      return Object.assign(new Map(readSafetensors(bytes)), { metadata: { ...parseSafetensors(bytes).metadata } });
    }
    async function refused(tensors: Map<string, Float32Tensor>, metadata: Record<string, string>, expected: RegExp) {
      const before = await storedKeys();
      const file = writeSafetensors(tensors, { metadata });
      const error = await importModel(store, loader, { files: [asImport('hostile.safetensors', file)] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobError);
      expect((error as JobError).code).toBe('bad-input');
      expect((error as JobError).message).toMatch(expected);
      expect(await storedKeys()).toEqual(before);
    }

    it('an unknown key', async () => {
      const lora = await loraFile();
      lora.set('unet.not_a_block.to_q.lora_A.weight', { shape: [2, 4], data: new Float32Array(8) });
      await refused(lora, lora.metadata, /^unet\.not_a_block\.to_q\.lora_A\.weight: /);
    });

    it('a wrong rank layout', async () => {
      const lora = await loraFile();
      const [name, a] = [...lora].find(([k]) => k.endsWith('lora_A.weight'))!;
      lora.set(name, { shape: [3, a.shape[1]!], data: new Float32Array(3 * a.shape[1]!) });
      const module = name.slice(0, -'.lora_A.weight'.length).replace(/\./g, '\\.');
      await refused(lora, lora.metadata, new RegExp(`^${module}\\.lora_B\\.weight: rank 2 differs from the rank 3 of ${module}\\.lora_A\\.weight$`));
    });

    it('a LoRA made for another base model', async () => {
      const lora = await loraFile();
      await refused(
        lora,
        { ...lora.metadata, studio_base_model_sha256: 'f'.repeat(64) },
        /^__metadata__\.studio_base_model_sha256: the file was trained on base model ffffffffffff…/,
      );
    });

    it('a zip that is not a model', async () => {
      const before = await storedKeys();
      const zip = zipSync({ 'notes.txt': new TextEncoder().encode('hello') });
      await expect(importModel(store, loader, { files: [asImport('notes.zip', zip)] })).rejects.toThrow(/expected a LoRA \.safetensors file .* got notes\.txt/);
      expect(await storedKeys()).toEqual(before);
    });
  });

  it('leaves other model ids to other resolvers, and says so when an imported model is gone', async () => {
    expect(importedModels(store)('checkpoint:rex:1', loader)).toBeUndefined();
    await expect(resolve(importedModelId('gone'))!).rejects.toThrow(/no longer stored/);
  });
});
