/**
 * The one error the interop formats throw for a file they refuse or a request they cannot honour. `key` is the
 * tensor name, metadata key (`__metadata__.…`) or file path at fault, so the message always says where to look.
 */
export class InteropError extends Error {
  constructor(
    /** The tensor, metadata key or file the problem is in; null when it concerns the whole file. */
    readonly key: string | null,
    readonly reason: string,
  ) {
    super(key === null ? reason : `${key}: ${reason}`);
    this.name = 'InteropError';
  }
}
