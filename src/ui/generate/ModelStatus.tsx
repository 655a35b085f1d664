import { useGenerate } from '../../state/generateStudio';
import { TechnicalDetail } from '../TechnicalDetail';
import { generationBackendLabel } from './backendText';
import { useSecondsSince } from './useSecondsSince';

const millions = (n: number) => `${(n / 1e6).toFixed(1)} M`;

/** Which model renders, whether it was ever trained, and what really runs it. */
export function ModelStatus() {
  const { model, lastRun, loadModel, chosenModel } = useGenerate();
  const info = model.info;
  // Each run updates the model's info, so it is the freshest word on the backend — the last run's only when the
  // model is not loaded; while it is prepared again (a new backend setting) there is no word yet.
  const backend = model.status === 'loading' ? undefined : (info?.backend ?? lastRun?.backend);
  const untrained = lastRun?.untrained ?? info?.untrained;
  const seconds = useSecondsSince(model.status === 'loading' ? model.since : undefined);

  return (
    <div className="model-status" data-testid="model-status">
      {untrained && (
        <p className="untrained-label" data-testid="untrained-label">
          <strong>Untrained model</strong> — seeded random weights; images will be noise until the base model is trained.
        </p>
      )}
      <p className="model-facts" role="status">
        {model.status === 'loading' && (
          <>
            <progress aria-label="Preparing the model" className="inline-progress" /> Preparing the built-in model (building and compiling its graphs) ·
            working, {seconds} s so far
          </>
        )}
        {model.status === 'idle' && !backend && 'The model is prepared on first use.'}
        {info && (
          <>
            Model: <strong data-testid="model-label">{chosenModel.modelId === info.modelId ? 'built-in' : chosenModel.label}</strong>
            {chosenModel.modelId === info.modelId ? '' : ' on the built-in model'} ({info.width}×{info.height},{' '}
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
      {backend && (
        <>
          <p className="hint" data-testid="generation-backend-why">
            Why: {backend.why}.
          </p>
          <TechnicalDetail detail={backend.detail} />
        </>
      )}
      {model.status === 'failed' && model.failure && (
        <div className="notice notice-error" role="alert">
          <div>
            <p>The model could not be prepared: {model.failure.reason}</p>
            <p>{model.failure.fix}</p>
            <TechnicalDetail detail={model.failure.detail} />
          </div>
          <button type="button" className="secondary" onClick={() => void loadModel()}>
            Try again
          </button>
        </div>
      )}
    </div>
  );
}
