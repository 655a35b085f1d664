import type { Batch } from './studioDb';

/** Where one kind of state lives in the key-value store: records by id, one index, blobs by content hash. */
export interface RecordLayout<State, Item> {
  items(state: State): readonly Item[];
  id(item: Item): string;
  itemKey(id: string): string;
  /** The index value for a state (item order and anything else kept beside it), stored under `indexKey`. */
  index(state: State): unknown;
  indexKey: string;
  /** Content hashes of the blobs an item refers to. */
  blobHashes(item: Item): readonly string[];
  blobKey(hash: string): string;
}

/**
 * The batch that turns the stored state `before` into `after`: new and changed records (by identity),
 * deleted ones, the index when it changed, blobs not stored yet (from `newBlobs`, by hash), and deletion
 * of blobs no item refers to any more. A blob shared by several items is stored once.
 */
export function planRecordChange<State, Item>(layout: RecordLayout<State, Item>, before: State, after: State, newBlobs: ReadonlyMap<string, Blob>): Batch {
  const batch: Batch = { put: [], del: [] };
  const beforeItems = layout.items(before);
  const afterItems = layout.items(after);
  const beforeById = new Map(beforeItems.map((item) => [layout.id(item), item]));
  const afterIds = new Set(afterItems.map(layout.id));
  if (afterIds.size !== afterItems.length) throw new Error('record ids must be unique');

  for (const item of afterItems) if (beforeById.get(layout.id(item)) !== item) batch.put.push([layout.itemKey(layout.id(item)), item]);
  for (const id of beforeById.keys()) if (!afterIds.has(id)) batch.del.push(layout.itemKey(id));

  const afterIndex = layout.index(after);
  if (JSON.stringify(layout.index(before)) !== JSON.stringify(afterIndex)) batch.put.push([layout.indexKey, afterIndex]);

  const blobsBefore = new Set(beforeItems.flatMap(layout.blobHashes));
  const blobsAfter = new Set(afterItems.flatMap(layout.blobHashes));
  for (const hash of blobsAfter) {
    if (blobsBefore.has(hash)) continue;
    const blob = newBlobs.get(hash);
    if (!blob) throw new Error(`blob ${hash} is referenced but neither stored nor supplied`);
    batch.put.push([layout.blobKey(hash), blob]);
  }
  for (const hash of blobsBefore) if (!blobsAfter.has(hash)) batch.del.push(layout.blobKey(hash));
  return batch;
}
