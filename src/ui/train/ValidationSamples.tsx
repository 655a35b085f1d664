import type { ValidationRow } from '../../state/trainRun';

/**
 * Preview samples over time: one strip per validation step, the subject prompt beside the class-only prompt (which
 * should keep looking like the class: if it drifts towards the subject, prior preservation is losing).
 */
export function ValidationSamples({ rows }: { rows: readonly ValidationRow[] }) {
  if (rows.length === 0) {
    return (
      <p className="muted" data-testid="validation-empty">
        Preview samples appear here at every validation step (see Advanced settings).
      </p>
    );
  }
  const first = rows[0]!;
  const newest = rows.at(-1)!;
  return (
    <>
      {rows.length > 1 && (
        <section aria-labelledby="base-vs-now-heading" className="base-vs-now" data-testid="base-vs-now">
          <h4 id="base-vs-now-heading">
            First vs now: step {first.step} → step {newest.step}
          </h4>
          <ul className="compare-grid">
            {newest.images.map((image, i) => {
              const before = first.images.find((b) => b.prompt === image.prompt && b.seed === image.seed) ?? first.images[i];
              return (
                <li key={`${image.prompt}-${image.seed}`}>
                  <span className="compare-prompt">{image.prompt}</span>
                  <span className="compare-pair">
                    {before && <img src={before.url} alt={`Step ${first.step}: ${before.prompt}`} />}
                    <span aria-hidden="true">→</span>
                    <img src={image.url} alt={`Step ${newest.step}: ${image.prompt}`} />
                  </span>
                </li>
              );
            })}
          </ul>
        </section>
      )}
      <ol className="validation-strips" aria-label="Preview samples over time" data-testid="validation-strips">
        {[...rows].reverse().map((row) => (
          <li key={row.step} className="validation-row" data-testid="validation-row" data-step={row.step}>
            <span className="validation-step">Step {row.step}</span>
            <ul className="validation-images">
              {row.images.map((image) => (
                <li key={`${image.prompt}-${image.seed}`}>
                  <img src={image.url} alt={`Step ${row.step}: ${image.prompt}, seed ${image.seed}`} title={image.prompt} />
                  <span className="validation-prompt">{image.prompt}</span>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
    </>
  );
}
