import type { GenerateStage } from '../../generation/jobTypes';
import type { RunProgress } from '../../state/generateStore';
import { useBatch, useGenerate } from '../../state/generateStudio';
import { TechnicalDetail } from '../TechnicalDetail';
import { generationBackendLabel } from './backendText';
import { pngFileName } from './download';
import { useSecondsSince } from './useSecondsSince';

const STAGE_TEXT: Record<Exclude<GenerateStage, 'denoising'>, string> = {
  'loading-model': 'Loading the model',
  compiling: 'Preparing the model for this device (first run only)',
  'encoding-text': 'Encoding the prompt',
  decoding: 'Decoding the images',
};

function stageText(run: RunProgress): string {
  if (run.stage !== 'denoising') return STAGE_TEXT[run.stage];
  const images = run.numImages > run.imageCount ? `, images ${run.imageIndex + 1}–${run.imageIndex + run.imageCount} of ${run.numImages}` : '';
  if (run.step === 0) return `Denoising: running the first step${images}`;
  return `Denoising: step ${run.step} of ${run.totalSteps}${images}`;
}

/** The stage, and how long is left — or, before anything has been timed, that it is working and for how long. */
function StageLine({ run }: { run: RunProgress }) {
  const seconds = useSecondsSince(run.stageSince);
  const eta = run.etaMs !== null && run.stage === 'denoising' ? etaText(run.etaMs) : null;
  return (
    <p className="run-stage" aria-live="polite" data-testid="run-stage">
      {stageText(run)}
      <span className="muted" data-testid="run-time">
        {' · '}
        {eta ?? `working, ${seconds} s so far`}
      </span>
    </p>
  );
}

/** "about 12 s left", "about 3 min left". */
export function etaText(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  return seconds < 90 ? `about ${seconds} s left` : `about ${Math.round(seconds / 60)} min left`;
}

/** The run in progress (progress, ETA, live preview, cancel), or the outcome of the last one. */
export function RunPanel() {
  const { running, lastRun, failure, stopped, cancel } = useGenerate();
  const batchRunning = useBatch((s) => s.running);

  return (
    <section className="run-panel panel" aria-label="Current run" data-testid="run-panel" data-state={running ? 'running' : 'ready'}>
      {running ? (
        <>
          <h3>Generating {running.label}</h3>
          <div className="previews" data-testid="previews">
            {running.previewUrls.length > 0 ? (
              running.previewUrls.map((url, i) => (
                <img key={i} src={url} alt={`Preview of image ${running.imageIndex + i + 1} at step ${running.step}`} data-testid="preview" />
              ))
            ) : (
              <div className="preview-placeholder" aria-hidden="true" />
            )}
          </div>
          {/* Without a value the bar is indeterminate (it moves): stages with no step count still show work. */}
          <progress
            max={1}
            value={running.stage === 'denoising' && running.step > 0 ? running.fraction : undefined}
            aria-label="Generation progress"
            data-testid="run-progress"
          />
          <StageLine run={running} />
          <div className="actions">
            <button type="button" className="danger-solid" onClick={cancel} disabled={running.cancelling}>
              {running.cancelling ? 'Cancelling…' : batchRunning ? 'Cancel batch' : 'Cancel'}
            </button>
          </div>
        </>
      ) : (
        <>
          <h3>{lastRun ? `Last finished: ${lastRun.label}` : 'Ready'}</h3>
          {stopped && (
            <p className="notice notice-info" role="status" data-testid="run-stopped">
              {stopped}
            </p>
          )}
          {failure && (
            <div className="notice notice-error" role="alert" data-testid="run-failure">
              <div>
                <p>
                  <strong>Generation failed:</strong> {failure.reason}
                </p>
                <p>{failure.fix}</p>
                <TechnicalDetail detail={failure.detail} />
              </div>
            </div>
          )}
          {lastRun ? (
            <>
              <ul className="result-grid" aria-label="Images of the last run">
                {lastRun.images.map((image) => (
                  <li key={image.url}>
                    <img src={image.url} alt={`Result, seed ${image.seed}`} data-testid="result-image" />
                    <span className="muted">Seed {image.seed}</span>
                    <a className="button-link secondary" href={image.url} download={pngFileName({ seed: image.seed, prompt: lastRun.prompt })}>
                      Download<span className="visually-hidden"> image with seed {image.seed}</span>
                    </a>
                  </li>
                ))}
              </ul>
              <p className="run-facts" data-testid="run-facts" data-ep={lastRun.backend.ep}>
                Ran on <strong>{generationBackendLabel(lastRun.backend)}</strong> · {lastRun.usage.unetEvaluations} UNet evaluations ·{' '}
                {Math.round(lastRun.usage.modelMs)} ms model time · {(lastRun.timings.totalMs / 1000).toFixed(1)} s in all
              </p>
              {!lastRun.saved && (
                <p className="notice notice-error" role="alert">
                  These images are not in the gallery (see the message there). Download them now to keep them.
                </p>
              )}
            </>
          ) : (
            !failure && !stopped && <p className="muted">Images appear here while they are made, then go to the gallery below.</p>
          )}
        </>
      )}
    </section>
  );
}
