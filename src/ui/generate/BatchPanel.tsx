import { useRef } from 'react';
import { SAMPLER_CHOICES_TEXT } from '../../batch/batchRequests';
import { queueCounts, type QueueLine } from '../../state/batchQueue';
import { useBatch, useGenerate } from '../../state/generateStudio';
import { downloadBlob } from './download';

const EXAMPLE = '{"custom_id": "cat-1", "prompt": "a photo of a cat", "steps": 20, "seed": 7}';

const STATUS_TEXT: Record<QueueLine['status'], string> = {
  queued: 'waiting',
  running: 'running',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** Batch jobs: a JSONL file of requests, checked line by line, run as a visible queue, exported as one zip. */
export function BatchPanel() {
  const { queue, running, message, importFile, start, cancel, clear, archive } = useBatch();
  const generating = useGenerate((s) => s.running);
  const step = generating?.stage === 'denoising' ? ` · step ${generating.step} of ${generating.totalSteps}` : '';
  const input = useRef<HTMLInputElement>(null);
  const counts = queue && queueCounts(queue);
  const finished = counts ? counts.done + counts.failed + counts.cancelled : 0;

  function exportResults() {
    const zip = archive();
    if (zip && queue) downloadBlob(zip, `${queue.fileName.replace(/\.[^.]*$/, '') || 'batch'}-results.zip`);
  }

  return (
    <section className="batch panel" aria-labelledby="batch-heading" data-testid="batch">
      <h3 id="batch-heading">Batch jobs</h3>
      <p className="hint">
        A JSON Lines file, one request per line — <code>custom_id</code> and <code>prompt</code> required; <code>negative_prompt</code>, <code>sampler</code>,{' '}
        <code>steps</code>, <code>guidance_scale</code>, <code>seed</code>, <code>num_images</code> optional (left out: the settings above).{' '}
        <code>sampler</code>: {SAMPLER_CHOICES_TEXT}.
      </p>
      <pre className="example">
        <code>{EXAMPLE}</code>
      </pre>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => input.current?.click()} disabled={running}>
          Import JSONL file…
        </button>
        <span className="muted drop-note">or drop it anywhere on this page</span>
        <input
          ref={input}
          type="file"
          accept=".jsonl,.ndjson,.json,.txt,application/jsonl,application/x-ndjson,application/json,text/plain"
          hidden
          aria-label="Import a JSONL batch file"
          data-testid="batch-file-input"
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file) void importFile(file);
          }}
        />
      </div>
      {message && (
        <p className="notice notice-error" role="alert" data-testid="batch-message">
          {message}
        </p>
      )}

      {queue && (
        <>
          {queue.invalid.length > 0 && (
            <div className="notice notice-error batch-invalid" role="alert" data-testid="batch-invalid">
              <div>
                <p>
                  <strong>
                    {queue.invalid.length === 1 ? 'One problem' : `${queue.invalid.length} problems`} in {queue.fileName}
                  </strong>{' '}
                  — {new Set(queue.invalid.map((e) => e.line)).size === 1 ? 'that line does' : 'those lines do'} not run; the valid lines do:
                </p>
                <ul>
                  {queue.invalid.map((error, i) => (
                    <li key={i} data-line={error.line} data-field={error.field}>
                      {error.message}
                    </li>
                  ))}
                </ul>
              </div>
            </div>
          )}
          {queue.lines.length > 0 && (
            <>
              <p className="queue-summary" role="status" data-testid="queue-summary">
                {queue.fileName}: {queue.lines.length} {queue.lines.length === 1 ? 'request' : 'requests'} — {counts!.done} done
                {counts!.failed > 0 && `, ${counts!.failed} failed`}
                {counts!.cancelled > 0 && `, ${counts!.cancelled} cancelled`}
                {counts!.running > 0 && ', 1 running'}
                {counts!.queued > 0 && `, ${counts!.queued} waiting`}
              </p>
              <div className="table-scroll">
                <table className="queue" data-testid="queue">
                  <thead>
                    <tr>
                      <th scope="col">Line</th>
                      <th scope="col">custom_id</th>
                      <th scope="col" className="queue-prompt">
                        Prompt
                      </th>
                      <th scope="col">Status</th>
                    </tr>
                  </thead>
                  <tbody>
                    {queue.lines.map((line) => (
                      <tr key={line.line} data-testid="queue-line" data-status={line.status}>
                        <td>{line.line}</td>
                        <td className="mono">{line.request.custom_id}</td>
                        <td className="queue-prompt" title={line.request.prompt}>
                          {line.request.prompt}
                        </td>
                        <td>
                          <span className={`status status-${line.status}`}>{STATUS_TEXT[line.status]}</span>
                          {line.status === 'running' && <span className="muted">{step}</span>}
                          {line.status === 'done' && line.result && <span className="muted"> · {line.result.images.length} img</span>}
                          {line.error && line.status === 'failed' && <span className="queue-error"> {line.error}</span>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
          <div className="actions">
            {running ? (
              <button type="button" className="danger-solid" onClick={cancel}>
                Cancel batch
              </button>
            ) : (
              counts!.queued > 0 && (
                <button type="button" onClick={() => void start()} disabled={generating !== null}>
                  Run {counts!.queued} {counts!.queued === 1 ? 'request' : 'requests'}
                </button>
              )
            )}
            <button type="button" className="secondary" onClick={exportResults} disabled={finished === 0} data-testid="batch-export">
              Download results (.zip)
            </button>
            {!running && (
              <button type="button" className="secondary" onClick={clear}>
                Clear
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}
