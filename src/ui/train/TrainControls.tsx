import { useTrain } from '../../state/dreamboothStudio';
import { isActive } from '../../state/trainStore';

/** Start / Pause / Resume / Cancel, and why Start is not possible when it is not. */
export function TrainControls({ blockedBy, notReady }: { blockedBy: string | null; notReady: string | null }) {
  const { run, problems, checkpoints, refused, start, pause, cancel } = useTrain();
  const active = isActive(run);
  const invalid = Object.keys(problems).length > 0;
  const latest = checkpoints[0];
  const resumable = !active && latest !== undefined && latest.step < latest.totalSteps;
  const why = invalid ? 'Fix the settings marked under Advanced settings first.' : (notReady ?? blockedBy);
  const cannotStart = active || why !== null;

  return (
    <div className="panel train-controls">
      <div className="actions">
        {!active && (
          <button
            type="button"
            onClick={() => void start(false)}
            disabled={cannotStart}
            data-testid="train-start"
            aria-describedby={why ? 'train-why' : undefined}
          >
            {latest ? 'Start over' : 'Start training'}
          </button>
        )}
        {resumable && (
          <button type="button" className="secondary" onClick={() => void start(true)} disabled={cannotStart} data-testid="train-resume">
            Resume from step {latest.step}
          </button>
        )}
        {active && (
          <>
            <button type="button" className="secondary" onClick={() => void pause()} disabled={run.status !== 'running'} data-testid="train-pause">
              {run.status === 'pausing' ? 'Pausing…' : 'Pause'}
            </button>
            <button type="button" className="danger-solid" onClick={cancel} disabled={run.status === 'cancelling'} data-testid="train-cancel">
              {run.status === 'cancelling' ? 'Cancelling…' : 'Cancel'}
            </button>
          </>
        )}
      </div>
      {!active && why && (
        <p id="train-why" className="hint" role="status" data-testid="train-why">
          {why}
        </p>
      )}
      {refused && (
        <p className="notice notice-error" role="alert" data-testid="train-refused">
          {refused}
        </p>
      )}
      <p className="hint">
        {active
          ? 'Training goes on in the background while you look at other steps. Pause saves a checkpoint first; Cancel stops at once and keeps the checkpoints already saved.'
          : latest
            ? 'Start over begins a new run from the base model; Resume continues the saved run (also after a reload).'
            : 'Training runs in this browser; you can look at other steps meanwhile.'}
      </p>
    </div>
  );
}
