import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';

/** One atomic change: every put and delete lands, or none does. */
export interface Batch {
  put: [IDBValidKey, unknown][];
  del: IDBValidKey[];
}

/** Browser storage ran out; the message says how to free space. */
export class StorageFullError extends Error {
  override name = 'StorageFullError';
}

/** The studio's key-value store in IndexedDB. */
export function openStudioStore(): UseStore {
  return createStore('dreambooth-studio', 'records');
}

/**
 * Applies a batch in one readwrite transaction, so a failure (e.g. quota) leaves nothing half-written.
 * Rejects with StorageFullError when the browser's quota is exhausted.
 */
export async function commit(store: UseStore, batch: Batch): Promise<void> {
  try {
    await store('readwrite', (objectStore) => {
      try {
        for (const [key, value] of batch.put) objectStore.put(value, key);
        for (const key of batch.del) objectStore.delete(key);
      } catch (error) {
        objectStore.transaction.abort(); // a put that throws must not let earlier puts commit
        throw error;
      }
      return promisifyRequest(objectStore.transaction);
    });
  } catch (error) {
    throw await explainStorageError(error);
  }
}

/** `error` as a StorageFullError (with how to free space) when it is the browser's QuotaExceededError; otherwise unchanged. */
export async function explainStorageError(error: unknown): Promise<unknown> {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  if (name !== 'QuotaExceededError') return error;
  let usage = '';
  try {
    const estimate = await navigator.storage?.estimate();
    if (estimate?.usage !== undefined && estimate.quota !== undefined) {
      usage = ` (this site uses ${mb(estimate.usage)} of ${mb(estimate.quota)} allowed)`;
    }
  } catch {
    // The estimate only decorates the message.
  }
  return new StorageFullError(
    `Browser storage is full${usage}. Free space by deleting subjects you no longer need, ` +
      'or by clearing other sites’ data in your browser’s settings, then try again.',
  );
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
