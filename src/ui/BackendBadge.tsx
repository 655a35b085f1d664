import { useBackend } from '../state/studio';
import { BACKEND_LABEL, speedNote } from './backendText';

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** The compute backend the worker found, always visible, with the details behind it one click away. */
export function BackendBadge() {
  const { report, error } = useBackend();
  if (error) return <p className="badge badge-error" role="status">Compute backend unknown: {error}</p>;
  if (!report) return <p className="badge" role="status">Checking compute backend…</p>;

  const adapter = report.adapter;
  return (
    <details className={`badge badge-${report.backend}`} data-testid="backend-badge" data-backend={report.backend}>
      <summary>
        <span className="badge-label" data-testid="backend-label">{BACKEND_LABEL[report.backend]}</span>
      </summary>
      <div className="badge-details">
        <p>{speedNote(report)}</p>
        <p>Why: {report.reason}.</p>
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
  );
}
