import { useGenerate } from '../../state/generateStudio';
import { generationBackendLabel } from './backendText';

const millions = (n: number) => `${(n / 1e6).toFixed(1)} M`;

/** Which model renders, whether it was ever trained, and what really runs it. */
export function ModelStatus() {
  const { model, lastRun, loadModel } = useGenerate();
  const info = model.info;
  // The last run is the freshest word on the backend; before any run, the model load's.
  const backend = lastRun?.backend ?? info?.backend;
  const untrained = lastRun?.untrained ?? info?.untrained;

  return (
    <div className="model-status" data-testid="model-status">
      {untrained && (
        <p className="untrained-label" data-testid="untrained-label">
          <strong>Untrained model</strong> — seeded random weights; images will be noise until the base model is trained.
        </p>
      )}
      <p className="model-facts" role="status">
        {model.status === 'loading' && 'Preparing the built-in model (building and compiling its graphs)…'}
        {model.status === 'idle' && !backend && 'The model is prepared on first use.'}
        {info && (
          <>
            Model: <strong>built-in</strong> ({info.width}×{info.height},{' '}
            {millions(info.components.reduce((sum, c) => sum + c.parameters, 0))} parameters)
          </>
        )}
        {backend && (
          <>
            {info && ' · '}Runs on:{' '}
            <strong data-testid="generation-backend" data-ep={backend.ep} data-kind={backend.kind}>
              {generationBackendLabel(backend)}
            </strong>
          </>
        )}
      </p>
      {backend?.fallbackReason && <p className="hint">WebGPU was not used: {backend.fallbackReason}</p>}
      {model.status === 'failed' && model.failure && (
        <div className="notice notice-error" role="alert">
          <div>
            <p>The model could not be prepared: {model.failure.reason}</p>
            <p>{model.failure.fix}</p>
          </div>
          <button type="button" className="secondary" onClick={() => void loadModel()}>
            Try again
          </button>
        </div>
      )}
    </div>
  );
}
