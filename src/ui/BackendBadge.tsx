import type { BackendPreference } from '../generation/jobTypes';
import { useIsolation } from '../offline/isolation';
import { useBackend } from '../state/studio';
import { BACKEND_SETTING_LABEL } from '../generation/backendChoice';
import { choiceLabel, speedNote } from './backendText';
import { TechnicalDetail } from './TechnicalDetail';

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;
const SETTINGS = Object.keys(BACKEND_SETTING_LABEL) as BackendPreference[];

/** The backend setting (Auto / GPU / CPU) and where work runs because of it, with the details one click away. */
export function BackendBadge() {
  const { report, error, setting, choice, setSetting } = useBackend();
  const isolationWhy = useIsolation((s) => s.why);
  const noGpu = report?.backend === 'cpu-wasm';

  const select = (
    <label className="backend-setting">
      Backend
      <select value={setting} onChange={(e) => setSetting(e.target.value as BackendPreference)} data-testid="backend-setting">
        {SETTINGS.map((s) => (
          <option key={s} value={s} disabled={s === 'webgpu' && noGpu && setting !== 'webgpu'}>
            {BACKEND_SETTING_LABEL[s]}
            {s === 'webgpu' && noGpu ? ' (unavailable here)' : ''}
          </option>
        ))}
      </select>
    </label>
  );
  if (error)
    return (
      <div className="backend-controls">
        {select}
        <p className="badge badge-error" role="status">
          Compute backend unknown: {error}
        </p>
      </div>
    );
  if (!report || !choice)
    return (
      <div className="backend-controls">
        {select}
        <p className="badge" role="status">
          Checking compute backend…
        </p>
      </div>
    );

  const adapter = report.adapter;
  return (
    <div className="backend-controls">
      {select}
      <details
        className={`badge badge-${choice.ep === 'wasm' ? 'cpu-wasm' : report.backend}`}
        data-testid="backend-badge"
        data-backend={report.backend}
        data-ep={choice.ep}
      >
        <summary>
          <span className="badge-label" data-testid="backend-label">
            {choiceLabel(choice, report)}
          </span>
        </summary>
        <div className="badge-details">
          <p data-testid="backend-speed">{speedNote(choice, report, isolationWhy)}</p>
          <p data-testid="backend-why">
            {setting === 'auto' ? 'Auto chose' : 'Runs on'} {choice.ep === 'wasm' ? 'the CPU' : 'WebGPU'} because {choice.why}.
          </p>
          {choice.ep === 'wasm' && report.backend !== 'cpu-wasm' && <p>WebGPU found: {report.reason}.</p>}
          <TechnicalDetail detail={report.detail} />
          {adapter && (
            <dl data-testid="adapter-info">
              <dt>Vendor</dt>
              <dd data-testid="adapter-vendor">{adapter.vendor || '—'}</dd>
              <dt>Architecture</dt>
              <dd data-testid="adapter-architecture">{adapter.architecture || '—'}</dd>
              <dt>Description</dt>
              <dd data-testid="adapter-description">{adapter.description || '—'}</dd>
              <dt>Fallback adapter</dt>
              <dd>{adapter.isFallbackAdapter ? 'yes' : 'no'}</dd>
              <dt>16-bit floats (shader-f16)</dt>
              <dd>{adapter.shaderF16 ? 'yes' : 'no'}</dd>
              <dt>Largest buffer</dt>
              <dd>{mib(adapter.limits.maxBufferSize)}</dd>
              <dt>Largest storage binding</dt>
              <dd>{mib(adapter.limits.maxStorageBufferBindingSize)}</dd>
            </dl>
          )}
        </div>
      </details>
    </div>
  );
}
