import 'fake-indexeddb/auto';
import { createStore, keys, set, type UseStore } from 'idb-keyval';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  deleteImportedModel,
  importedFileKey,
  importedModelKey,
  listImportedModels,
  loadImportedModel,
  saveImportedModel,
  type ImportedModelInfo,
  type StoredImportedModel,
} from './importedModels';
import { exhaustQuotaAfter } from './quotaTesting';
import { StorageFullError } from './studioDb';

let store: UseStore;
let dbCounter = 0;
beforeEach(() => {
  store = createStore(`imported-test-${dbCounter++}`, 'records');
});
const storedKeys = async () => (await keys(store)).map(String).sort();

function lora(id: string, createdAt = 1000): StoredImportedModel {
  const files = new Map([
    ['lora.safetensors', new Blob(['lora bytes'])],
    ['embedding.safetensors', new Blob(['emb'])],
  ]);
  const info: ImportedModelInfo = {
    id,
    kind: 'lora',
    name: `rex ${id}`,
    baseModelId: 'builtin',
    identifier: 'zovy',
    classNoun: 'dog',
    files: [...files].map(([path, blob]) => ({ path, bytes: blob.size })),
    createdAt,
  };
  return { info, files };
}

const text = async (blob: Blob | undefined) => (blob ? new TextDecoder().decode(await blob.arrayBuffer()) : undefined);

describe('imported models', () => {
  it('saves a model with its files, lists it and loads it back', async () => {
    await saveImportedModel(store, lora('a'));
    expect(await storedKeys()).toEqual([importedModelKey('a'), importedFileKey('a', 'embedding.safetensors'), importedFileKey('a', 'lora.safetensors')].sort());
    expect((await listImportedModels(store)).map((m) => m.id)).toEqual(['a']);
    const loaded = await loadImportedModel(store, 'a');
    expect(loaded?.info).toEqual(lora('a').info);
    expect(await text(loaded?.files.get('lora.safetensors'))).toBe('lora bytes');
  });

  it('lists newest first', async () => {
    await saveImportedModel(store, lora('old', 1));
    await saveImportedModel(store, lora('new', 2));
    expect((await listImportedModels(store)).map((m) => m.id)).toEqual(['new', 'old']);
  });

  it('refuses an id already saved, leaving the stored model as it was', async () => {
    await saveImportedModel(store, lora('a'));
    const again = lora('a');
    again.files.set('lora.safetensors', new Blob(['other']));
    await expect(saveImportedModel(store, again)).rejects.toThrow(/already saved/);
    expect(await text((await loadImportedModel(store, 'a'))?.files.get('lora.safetensors'))).toBe('lora bytes');
  });

  it('refuses a record that does not list exactly its files', async () => {
    const model = lora('a');
    model.files.delete('embedding.safetensors');
    await expect(saveImportedModel(store, model)).rejects.toThrow(/exactly the files/);
    expect(await storedKeys()).toEqual([]);
  });

  it('does not load a model whose file is missing or truncated', async () => {
    await saveImportedModel(store, lora('a'));
    await set(importedFileKey('a', 'lora.safetensors'), new Blob(['lora']), store);
    expect(await loadImportedModel(store, 'a')).toBeUndefined();
    expect(await loadImportedModel(store, 'never')).toBeUndefined();
  });

  it('deletes one model with all its files and leaves the others', async () => {
    await saveImportedModel(store, lora('a'));
    await saveImportedModel(store, lora('ab'));
    await deleteImportedModel(store, 'a');
    expect(await storedKeys()).toEqual(
      [importedModelKey('ab'), importedFileKey('ab', 'embedding.safetensors'), importedFileKey('ab', 'lora.safetensors')].sort(),
    );
  });

  describe('when the quota runs out', () => {
    for (const how of ['throw', 'abort'] as const) {
      it(`(${how}) rejects with StorageFullError and stores nothing of the model`, async () => {
        await saveImportedModel(store, lora('kept'));
        const before = await storedKeys();
        const restore = exhaustQuotaAfter(1, how); // one file lands in the transaction, the next put fails
        try {
          await expect(saveImportedModel(store, lora('new'))).rejects.toBeInstanceOf(StorageFullError);
        } finally {
          restore();
        }
        expect(await storedKeys()).toEqual(before);
        expect((await listImportedModels(store)).map((m) => m.id)).toEqual(['kept']);
      });
    }
  });
});
