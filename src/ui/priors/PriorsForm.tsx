import { useId, type FormEvent } from 'react';
import { usePriors } from '../../state/dreamboothStudio';
import { SAMPLER_OPTIONS } from '../../state/generateForm';
import { PRIORS_LIMITS, type PriorsField } from '../../state/priorsForm';

const { count, steps, guidanceScale } = PRIORS_LIMITS;

/** How many class images and how they are sampled; each problem shown beside its field. */
export function PriorsForm({ blockedBy }: { blockedBy: string | null }) {
  const { form, problems, running, importing, setField, generate } = usePriors();
  const id = useId();
  const busy = running !== null || importing !== null || blockedBy !== null;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!busy) void generate();
  }

  const numberField = (field: Exclude<PriorsField, 'sampler'>, label: string, hint: string, decimal = false) => (
    <div className="field">
      <label htmlFor={`${id}-${field}`}>{label}</label>
      <input
        id={`${id}-${field}`}
        name={field}
        inputMode={decimal ? 'decimal' : 'numeric'}
        autoComplete="off"
        value={form[field]}
        aria-invalid={problems[field] ? true : undefined}
        aria-describedby={`${id}-${field}-hint${problems[field] ? ` ${id}-${field}-error` : ''}`}
        onChange={(e) => setField(field, e.target.value)}
      />
      <p id={`${id}-${field}-hint`} className="hint">
        {hint}
      </p>
      {problems[field] && (
        <p id={`${id}-${field}-error`} className="field-error" role="alert" data-testid={`priors-error-${field}`}>
          {problems[field]}
        </p>
      )}
    </div>
  );

  return (
    <form className="panel step-form" onSubmit={submit} noValidate aria-label="Class image settings">
      <div className="field-grid">
        {numberField('count', 'Number of class images', `${count.min}–${count.max}. The training preset suggests this many; recipes use 100–200.`)}
        {numberField('seed', 'Seed', `Image n uses seed + n. The same seed finds images already made.`)}
        <div className="field">
          <label htmlFor={`${id}-sampler`}>Sampler</label>
          <select id={`${id}-sampler`} name="sampler" value={form.sampler} onChange={(e) => setField('sampler', e.target.value as typeof form.sampler)}>
            {SAMPLER_OPTIONS.map((option) => (
              <option key={option.id} value={option.id}>
                {option.label}
              </option>
            ))}
          </select>
        </div>
        {numberField('steps', 'Steps', `${steps.min}–${steps.max}. Typical: 20–30.`)}
        {numberField('guidanceScale', 'Guidance scale', `${guidanceScale.min}–${guidanceScale.max}. Typical: 7.5.`, true)}
      </div>
      <div className="actions">
        <button type="submit" disabled={busy} data-testid="priors-generate">
          {running ? 'Making class images…' : 'Generate class images'}
        </button>
      </div>
      {blockedBy && !running && (
        <p className="hint" role="status" data-testid="priors-blocked">
          {blockedBy} Class images can be made once it is done.
        </p>
      )}
    </form>
  );
}
