/** What a step's state looks like everywhere: empty, ready, running, done, failed (and paused for training). */
export type StepStateName = 'empty' | 'ready' | 'running' | 'paused' | 'done' | 'failed';

const LABELS: Record<StepStateName, string> = {
  empty: 'Nothing yet',
  ready: 'Ready',
  running: 'Running',
  paused: 'Paused',
  done: 'Done',
  failed: 'Failed',
};

export const stepStateLabel = (state: StepStateName) => LABELS[state];

export function StepState({ state, testId, children }: { state: StepStateName; testId: string; children?: string }) {
  return (
    <p className={`state-tag state-${state}`} data-testid={testId} data-state={state}>
      {children ?? LABELS[state]}
    </p>
  );
}
