/**
 * Models a person imported (a LoRA file, optionally with its identifier embedding, or a diffusers model folder) in the
 * studio's IndexedDB store. Runs on the page (listing, deleting) and in the worker (saving after the import job has
 * checked the files against the base model, loading to sample).
 *
 * Key layout:
 *   imported/<id>                ImportedModelInfo
 *   importedfile/<id>/<path>     Blob (the file as imported: `lora.safetensors`, `unet/config.json`, …)
 *
 * A model is written in one transaction — its files and then its record — so a full quota or a killed tab leaves
 * either the whole model or nothing: never a listed model with missing files, never orphan files.
 */
import { getMany, promisifyRequest, type UseStore } from 'idb-keyval';
import { commit, explainStorageError } from './studioDb';

export const importedModelKey = (id: string) => `imported/${id}`;
export const importedFileKey = (id: string, path: string) => `importedfile/${id}/${path}`;

/** What the import holds: LoRA weights applied to a base model, or a whole diffusers folder. */
export type ImportedModelKind = 'lora' | 'diffusers';

export interface ImportedModelInfo {
  id: string;
  kind: ImportedModelKind;
  /** The file's name without extension, or the name its metadata gives. */
  name: string;
  /** A LoRA's base model (the model id it applies to); absent for a diffusers folder (it is its own model). */
  baseModelId?: string;
  /** From the file's metadata, where it has them: the identifier and class a prompt names ("a photo of zovy dog"). */
  identifier?: string;
  classNoun?: string;
  /** The stored files by path, with their sizes (a truncated blob is told by its size). */
  files: { path: string; bytes: number }[];
  createdAt: number;
}

export interface StoredImportedModel {
  info: ImportedModelInfo;
  files: Map<string, Blob>;
}

/**
 * Saves a checked import: its files and its record in one transaction. The id must be new.
 * @throws StorageFullError when the quota runs out (nothing is stored).
 */
export async function saveImportedModel(store: UseStore, model: StoredImportedModel): Promise<void> {
  const { info, files } = model;
  const listed = new Set(info.files.map((f) => f.path));
  if (listed.size !== files.size || [...files.keys()].some((path) => !listed.has(path))) throw new Error('the record must list exactly the files given');
  const [existing] = await getMany([importedModelKey(info.id)], store);
  if (existing !== undefined) throw new Error(`imported model ${info.id} is already saved; a new import needs a new id`);
  await commit(store, {
    put: [...[...files].map(([path, blob]): [string, Blob] => [importedFileKey(info.id, path), blob]), [importedModelKey(info.id), info]],
    del: [],
  });
}

/** Every imported model, newest first. */
export async function listImportedModels(store: UseStore): Promise<ImportedModelInfo[]> {
  const all = await store('readonly', (objectStore) => promisifyRequest<ImportedModelInfo[]>(objectStore.getAll(prefixRange('imported/'))));
  return all.sort((a, b) => b.createdAt - a.createdAt);
}

/** An imported model with its files; undefined when it is not stored or a file is missing or truncated. */
export async function loadImportedModel(store: UseStore, id: string): Promise<StoredImportedModel | undefined> {
  const [info] = await getMany<ImportedModelInfo>([importedModelKey(id)], store);
  if (!info) return undefined;
  const blobs = await getMany<Blob>(
    info.files.map((f) => importedFileKey(id, f.path)),
    store,
  );
  if (!blobs.every((blob, i) => blob instanceof Blob && blob.size === info.files[i]!.bytes)) return undefined;
  return { info, files: new Map(info.files.map((f, i) => [f.path, blobs[i]!])) };
}

/** Deletes an imported model's record and files in one transaction (nothing happens when it is not stored). */
export async function deleteImportedModel(store: UseStore, id: string): Promise<void> {
  try {
    await store('readwrite', (objectStore) => {
      objectStore.delete(importedModelKey(id));
      objectStore.delete(prefixRange(`importedfile/${id}/`));
      return promisifyRequest(objectStore.transaction);
    });
  } catch (error) {
    throw await explainStorageError(error);
  }
}

const prefixRange = (prefix: string) => IDBKeyRange.bound(prefix, `${prefix}\uffff`);
