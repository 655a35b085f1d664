/** How a browser reports a full quota: the put throws, or the transaction aborts with tx.error set. */
export type QuotaFailure = 'throw' | 'abort';

/**
 * Test utility: IndexedDB refuses every put after the first `allowed` with QuotaExceededError.
 * 'throw': the put itself throws. 'abort': the put succeeds and its transaction then aborts with
 * `tx.error` = QuotaExceededError — how Chromium and Firefox report a full quota, at commit.
 * Returns the function that restores `put`.
 */
export function exhaustQuotaAfter(allowed: number, how: QuotaFailure): () => void {
  const realPut = IDBObjectStore.prototype.put;
  const aborted = new WeakSet<IDBTransaction>();
  let puts = 0;
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof realPut>) {
    if (++puts <= allowed) return realPut.apply(this, args);
    const quota = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    if (how === 'throw') throw quota;
    const request = realPut.apply(this, args);
    const tx = this.transaction;
    request.addEventListener('success', () => {
      if (aborted.has(tx)) return;
      aborted.add(tx);
      Object.defineProperty(tx, 'error', { value: quota });
      tx.abort();
    });
    return request;
  };
  return () => {
    IDBObjectStore.prototype.put = realPut;
  };
}
