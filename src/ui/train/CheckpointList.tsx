import { checkpointModelId } from '../../dreambooth/jobTypes';
import { useTrain } from '../../state/dreamboothStudio';
import { useBatch, useGenerate } from '../../state/generateStudio';
import { checkpointLabel, checkpointPrompt } from '../../state/modelChoices';
import { useNavigation } from '../../state/navigationStore';
import type { Subject } from '../../subjects/subject';
import { bytesText } from '../etaText';
import { CheckpointExport, CheckpointExportError } from './CheckpointExport';

/**
 * The subject's saved checkpoints (newest first), their size and exports, and how much room the browser leaves. Each
 * one opens on the Generate step with its instance prompt — except while a run holds the compute device.
 */
export function CheckpointList({ subject, locked, training }: { subject: Pick<Subject, 'id' | 'name'>; locked: boolean; training: boolean }) {
  const { checkpoints, checkpointError, storage, deleteCheckpoint } = useTrain();
  const generating = useGenerate((s) => s.running !== null);
  const batchRunning = useBatch((s) => s.running);
  const goTo = useNavigation((s) => s.goTo);
  return (
    <section aria-labelledby="checkpoints-heading" className="panel checkpoints" data-testid="checkpoint-list">
      <h3 id="checkpoints-heading">
        Checkpoints <span className="count">{checkpoints.length} saved</span>
      </h3>
      {checkpointError && (
        <p className="notice notice-error" role="alert" data-testid="checkpoint-error">
          {checkpointError}
        </p>
      )}
      <CheckpointExportError />
      {checkpoints.length === 0 ? (
        <p className="muted">None yet. Training saves one every few steps (Advanced settings) and at the end.</p>
      ) : (
        <ul className="checkpoint-items">
          {checkpoints.map((c, i) => (
            <li key={c.id} data-testid="checkpoint" data-step={c.step} data-id={c.id}>
              <span>
                <strong>Step {c.step}</strong> of {c.totalSteps} · {bytesText(c.bytes)} · loss {c.loss.toFixed(4)} ·{' '}
                <time dateTime={new Date(c.createdAt).toISOString()}>{new Date(c.createdAt).toLocaleString()}</time>
              </span>
              <button
                type="button"
                className={i === 0 ? 'small' : 'secondary small'}
                // The list can still hold the previous subject's checkpoints for one render after a switch.
                disabled={training || generating || batchRunning || c.subjectId !== subject.id}
                title={
                  training
                    ? 'Training holds the compute device; generate when the run is paused or finished'
                    : generating || batchRunning
                      ? 'Images are being generated; wait until they are done'
                      : undefined
                }
                onClick={() => {
                  useGenerate
                    .getState()
                    .chooseModel({ modelId: checkpointModelId(c.subjectId, c.id), label: checkpointLabel(subject.name, c) }, checkpointPrompt(c));
                  goTo('generate');
                }}
              >
                Generate with it<span className="visually-hidden"> (checkpoint at step {c.step})</span>
              </button>
              <CheckpointExport checkpoint={c} />
              <button
                type="button"
                className="secondary small danger-text"
                disabled={locked}
                onClick={() => {
                  if (confirm(`Delete the checkpoint at step ${c.step}?`)) void deleteCheckpoint(c.id);
                }}
              >
                Delete<span className="visually-hidden"> checkpoint at step {c.step}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <p className="hint" data-testid="storage-free">
        {storage
          ? `This site stores ${bytesText(storage.usage)} of ${bytesText(storage.quota)} the browser allows (${bytesText(Math.max(0, storage.quota - storage.usage))} free).`
          : 'This browser does not say how much storage is left.'}
      </p>
    </section>
  );
}
