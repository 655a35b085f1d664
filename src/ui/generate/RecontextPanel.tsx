import { useDreamboothBlock } from './useDreamboothBlock';
import { useGenerate, useModelChoices, useRecontext } from '../../state/generateStudio';

/** One click: the DreamBooth paper's recontextualization prompts with the chosen checkpoint, same seed for each. */
export function RecontextPanel() {
  const chosen = useGenerate((s) => s.chosenModel);
  const generating = useGenerate((s) => s.running !== null);
  const option = useModelChoices((s) => s.options.find((o) => o.modelId === chosen.modelId));
  const { cells, running, modelLabel, run, cancel } = useRecontext();
  const blockedBy = useDreamboothBlock();
  const trigger = option?.trigger;
  if (!trigger && cells.length === 0) return null;

  return (
    <section className="panel recontext" aria-labelledby="recontext-heading" data-testid="recontext">
      <h3 id="recontext-heading">Recontextualization{modelLabel ? ` · ${modelLabel}` : ''}</h3>
      <p className="hint">
        Your subject in new places and with new properties — the DreamBooth paper’s prompts, each with the same seed, so two checkpoints’ grids differ only by
        their training. Each image also goes to the gallery.
      </p>
      <div className="actions">
        {running ? (
          <button type="button" className="danger-solid" onClick={cancel} data-testid="recontext-cancel">
            Cancel grid
          </button>
        ) : (
          trigger && (
            <button
              type="button"
              onClick={() => void run(trigger.identifier, trigger.classNoun)}
              disabled={generating || blockedBy !== null}
              data-testid="recontext-run"
            >
              Render the 6 prompts with {chosen.label}
            </button>
          )
        )}
      </div>
      {blockedBy && !running && (
        <p className="hint" role="status">
          {blockedBy}
        </p>
      )}
      {cells.length > 0 && (
        <ul className="recontext-grid" aria-label="Recontextualization grid" data-testid="recontext-grid">
          {cells.map((cell) => (
            <li key={cell.prompt} data-testid="recontext-cell" data-status={cell.status}>
              {cell.url ? <img src={cell.url} alt={`${cell.prompt}, seed ${cell.seed}`} /> : <span className="recontext-placeholder" aria-hidden="true" />}
              <span className="recontext-prompt">{cell.prompt}</span>
              {cell.status !== 'done' && <span className="muted">{cell.status === 'failed' ? `failed: ${cell.error}` : cell.status}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
