import type { UseStore } from 'idb-keyval';
import { commit, type Batch } from './studioDb';

/** How a store's state is planned into a batch, read, shown, and how a failed save is reported. */
export interface SerializedApplyDeps<State> {
  store: UseStore;
  plan(before: State, after: State, newBlobs: ReadonlyMap<string, Blob>): Batch;
  /** The state as stored: the last one shown. */
  read(): State;
  show(after: State): void;
  reportFailure(error: unknown, what: string): void;
}

export interface SerializedApply<State> {
  /**
   * Saves `update(latest)` and then shows it, in turn with every other change, so each one builds on
   * the state the previous one left. `update` returns null for "nothing to change". Resolves to the
   * state saved, or null when nothing was changed (declined, or failed and reported — storage and the
   * shown state then both stay as they were).
   */
  apply(what: string, update: (latest: State) => State | null, newBlobs?: ReadonlyMap<string, Blob>): Promise<State | null>;
  /** Runs `task` in the same turn order as the changes (e.g. loading the stored state). */
  inTurn<T>(task: () => Promise<T>): Promise<T>;
}

/** One promise chain per store: a change is planned against the latest state only once the previous one has landed. */
export function createSerializedApply<State>(deps: SerializedApplyDeps<State>): SerializedApply<State> {
  let tail: Promise<unknown> = Promise.resolve();

  function inTurn<T>(task: () => Promise<T>): Promise<T> {
    const run = tail.then(task);
    tail = run.catch(() => undefined); // a failed change must not stop the ones queued behind it
    return run;
  }

  async function apply(what: string, update: (latest: State) => State | null, newBlobs: ReadonlyMap<string, Blob> = new Map()) {
    try {
      return await inTurn(async () => {
        const before = deps.read();
        const after = update(before);
        if (after === null) return null;
        await commit(deps.store, deps.plan(before, after, newBlobs));
        deps.show(after);
        return after;
      });
    } catch (error) {
      deps.reportFailure(error, what);
      return null;
    }
  }

  return { apply, inTurn };
}
