/**
 * Text embeddings by content: the key is the model's identity plus the exact token ids, so two prompts that
 * tokenize alike share an entry and a retrained model never sees another's. Least recently used entries go first
 * once the total size passes `maxBytes`.
 */
export class TextEmbeddingCache {
  private readonly entries = new Map<string, Float32Array>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes = 32 * 2 ** 20) {}

  static key(modelKey: string, tokenKind: string, ids: Int32Array): string {
    return `${modelKey}|${tokenKind}|${ids.join(',')}`;
  }

  /** The cached embedding (counted as a hit, and made most recent), or undefined (counted as a miss). */
  get(key: string): Float32Array | undefined {
    const hit = this.entries.get(key);
    if (!hit) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  set(key: string, embedding: Float32Array): void {
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.byteLength;
      this.entries.delete(key);
    }
    if (embedding.byteLength > this.maxBytes) return;
    this.entries.set(key, embedding);
    this.bytes += embedding.byteLength;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.byteLength;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get byteSize(): number {
    return this.bytes;
  }
}
