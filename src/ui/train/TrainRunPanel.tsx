import type { TrainStage } from '../../dreambooth/jobTypes';
import { useTrain } from '../../state/dreamboothStudio';
import { isActive } from '../../state/trainStore';
import type { TrainRun } from '../../state/trainRun';
import { etaText, stepsPerSecondText } from '../etaText';
import { generationBackendLabel } from '../generate/backendText';
import { useSecondsSince } from '../generate/useSecondsSince';
import { TechnicalDetail } from '../TechnicalDetail';
import { LossChart } from './LossChart';
import { ValidationSamples } from './ValidationSamples';

const STAGE_TEXT: Record<TrainStage, string> = {
  preparing: 'Preparing the photos and class images',
  encoding: 'Encoding images and prompts',
  compiling: 'Building the training graphs for this device',
  training: 'Training',
  sampling: 'Rendering preview samples',
  checkpointing: 'Saving a checkpoint',
};

const STATUS_TEXT: Record<TrainRun['status'], string> = {
  starting: 'Starting',
  running: 'Running',
  pausing: 'Pausing — saving a checkpoint',
  cancelling: 'Cancelling',
  paused: 'Paused',
  finished: 'Finished',
  cancelled: 'Cancelled',
  failed: 'Failed',
};

/** The run: progress with steps/s and ETA, the backend that really runs it, the loss chart and the preview samples. */
export function TrainRunPanel() {
  const { run, outcome, failure, result } = useTrain();
  if (!run && !failure && !outcome) return null;
  return (
    <section aria-labelledby="run-heading" className="panel train-progress" data-testid="train-run" data-status={run?.status ?? 'none'}>
      <h3 id="run-heading">{run ? `${run.resumed ? 'Resumed run' : 'Run'}: ${STATUS_TEXT[run.status]}` : 'Last run'}</h3>
      {run && <Progress run={run} />}
      {outcome && (
        <p className="notice notice-info" role="status" data-testid="train-outcome">
          {outcome}
        </p>
      )}
      {failure && (
        <div className="notice notice-error" role="alert" data-testid="train-failure">
          <div>
            <p>
              <strong>Training stopped:</strong> {failure.reason}
            </p>
            <p>{failure.fix}</p>
            <TechnicalDetail detail={failure.detail} />
          </div>
        </div>
      )}
      {result && (
        <p className="hint" data-testid="train-result">
          Ran on {generationBackendLabel(result.backend)} · preparing {seconds(result.timings.prepareMs)}, compiling {seconds(result.timings.compileMs)},
          training {seconds(result.timings.trainMs)}, previews {seconds(result.timings.validationMs)}, checkpoints {seconds(result.timings.checkpointMs)}
        </p>
      )}
      {run && (
        <>
          <h4>Loss</h4>
          <LossChart loss={run.loss} />
          <h4>Preview samples</h4>
          <ValidationSamples rows={run.validations} />
        </>
      )}
    </section>
  );
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function Progress({ run }: { run: TrainRun }) {
  const active = isActive(run);
  const since = useSecondsSince(active ? run.stageSince : undefined);
  const stepping = run.step > 0;
  return (
    <>
      <progress max={run.totalSteps} value={stepping || !active ? run.step : undefined} aria-label="Training progress" data-testid="train-progress" />
      <p aria-live="polite" data-testid="train-stage">
        Step {run.step} of {run.totalSteps}
        {active && run.stage && run.stage !== 'training' && (
          <>
            {' · '}
            {run.stageMessage || STAGE_TEXT[run.stage]} <span className="muted">({since} s)</span>
          </>
        )}
      </p>
      <p className="muted" data-testid="train-rate">
        {run.msPerStep !== null ? stepsPerSecondText(run.msPerStep) : 'Speed appears after the first step'}
        {active && run.etaMs !== null && ` · ${etaText(run.etaMs)}`}
        {run.learningRate !== null && ` · learning rate ${run.learningRate.toExponential(1)}`}
      </p>
      {run.fit.length > 0 && (
        <p
          className="muted"
          data-testid="train-fit"
          title="The loss on one fixed batch (same images, timesteps and noise) at the start and at each checkpoint: unlike the per-step loss, it shows whether the model fits its data."
        >
          Fixed-batch loss: {[run.fit[0]!, ...(run.fit.length > 1 ? [run.fit.at(-1)!] : [])].map((f) => `${f.loss.toFixed(4)} at step ${f.step}`).join(' → ')}
        </p>
      )}
      <p data-testid="train-backend" data-ep={run.backend?.ep ?? ''} data-kind={run.backend?.kind ?? ''}>
        {run.backend ? (
          <>
            Runs on <strong>{generationBackendLabel(run.backend)}</strong> <span className="muted">— {run.backend.why}</span>
          </>
        ) : (
          <span className="muted">The backend is known once the worker has prepared the model.</span>
        )}
      </p>
    </>
  );
}
