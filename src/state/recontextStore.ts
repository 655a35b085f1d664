import { create } from 'zustand';
import { RECONTEXT_SEED, recontextPrompts } from '../subjects/recontextPrompts';
import { JobError } from '../protocol/jobs';
import type { GenerateStore } from './generateStore';

export interface RecontextCell {
  prompt: string;
  seed: number;
  status: 'waiting' | 'running' | 'done' | 'failed' | 'cancelled';
  url?: string;
  error?: string;
}

export interface RecontextState {
  /** The model label the grid was made with ("Rex · step 400"). */
  modelLabel: string | null;
  cells: RecontextCell[];
  running: boolean;
  /** Renders the paper's six prompts for `identifier classNoun` with the chosen model, one after another, same seed. */
  run(identifier: string, classNoun: string): Promise<void>;
  cancel(): void;
}

export type RecontextStore = ReturnType<typeof createRecontextStore>;

/**
 * The one-click recontextualization grid: each prompt is an ordinary generate request (form sampler settings, the
 * chosen model, a fixed seed), so its image also lands in the gallery and shows in the run panel while it runs.
 */
export function createRecontextStore(deps: { generate: GenerateStore }) {
  let controller: AbortController | null = null;
  return create<RecontextState>()((set, get) => {
    const setCell = (i: number, change: Partial<RecontextCell>) => set((s) => ({ cells: s.cells.map((c, j) => (j === i ? { ...c, ...change } : c)) }));
    return {
      modelLabel: null,
      cells: [],
      running: false,
      async run(identifier, classNoun) {
        if (controller) return;
        const defaults = deps.generate.getState().batchDefaults();
        if (!defaults) return; // the form shows what is wrong
        const own = new AbortController();
        controller = own;
        get().cells.forEach((c) => c.url && URL.revokeObjectURL(c.url));
        const prompts = recontextPrompts(identifier, classNoun);
        set({
          running: true,
          modelLabel: deps.generate.getState().chosenModel.label,
          cells: prompts.map((prompt) => ({ prompt, seed: RECONTEXT_SEED, status: 'waiting' })),
        });
        try {
          for (const [i, prompt] of prompts.entries()) {
            if (own.signal.aborted) {
              setCell(i, { status: 'cancelled' });
              continue;
            }
            setCell(i, { status: 'running' });
            try {
              const result = await deps.generate
                .getState()
                .execute(
                  { ...defaults, prompt, seed: RECONTEXT_SEED, numImages: 1 },
                  { label: `recontextualization ${i + 1} of ${prompts.length}`, signal: own.signal },
                );
              const png = result.images[0]?.png;
              setCell(i, { status: 'done', ...(png ? { url: URL.createObjectURL(new Blob([png], { type: 'image/png' })) } : {}) });
            } catch (error) {
              const cancelled = error instanceof JobError && error.code === 'cancelled';
              setCell(i, cancelled ? { status: 'cancelled' } : { status: 'failed', error: error instanceof Error ? error.message : String(error) });
              own.abort(); // the remaining prompts would fail the same way (or were cancelled with it)
            }
          }
        } finally {
          controller = null;
          set({ running: false });
        }
      },
      cancel() {
        controller?.abort();
        deps.generate.getState().cancel();
      },
    };
  });
}
