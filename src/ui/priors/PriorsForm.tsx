import { useId, type FormEvent } from 'react';
import { usePriors } from '../../state/dreamboothStudio';
import { PRIORS_LIMITS, type PriorsField } from '../../state/priorsForm';
import { NumberField, SamplerField } from '../FormFields';

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
    <NumberField
      id={`${id}-${field}`}
      name={field}
      label={label}
      hint={hint}
      value={form[field]}
      problem={problems[field]}
      decimal={decimal}
      errorTestId={`priors-error-${field}`}
      onChange={(value) => setField(field, value)}
    />
  );

  return (
    <form className="panel step-form" onSubmit={submit} noValidate aria-label="Class image settings">
      <div className="field-grid">
        {numberField('count', 'Number of class images', `${count.min}–${count.max}. The training preset suggests this many; recipes use 100–200.`)}
        {numberField('seed', 'Seed', `Image n uses seed + n. The same seed finds images already made.`)}
        <SamplerField id={`${id}-sampler`} value={form.sampler} onChange={(value) => setField('sampler', value)} />
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
