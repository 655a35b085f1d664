import { usePriors } from '../../state/dreamboothStudio';
import { generationBackendLabel } from '../generate/backendText';
import { useSecondsSince } from '../generate/useSecondsSince';
import { etaText } from '../etaText';

/** The run in progress: how many of how many, how many were found already made, time left, cancel. */
export function PriorsProgress() {
  const running = usePriors((s) => s.running);
  const cancel = usePriors((s) => s.cancel);
  const seconds = useSecondsSince(running?.startedAt);
  if (!running) return null;
  const made = running.done - running.reused;
  return (
    <div className="panel run-progress" data-testid="priors-running">
      <progress max={running.total} value={running.done > 0 ? running.done : undefined} aria-label="Class image progress" data-testid="priors-progress" />
      <p aria-live="polite" data-testid="priors-progress-text">
        {running.done} of {running.total} class images · {made} made, {running.reused} reused
        <span className="muted">
          {' · '}
          {running.etaMs !== null && running.done > 0 ? etaText(running.etaMs) : `working, ${seconds} s so far`}
          {running.backend && ` · on ${generationBackendLabel(running.backend)}`}
        </span>
      </p>
      <div className="actions">
        <button type="button" className="danger-solid" onClick={cancel} disabled={running.cancelling} data-testid="priors-cancel">
          {running.cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      </div>
    </div>
  );
}
