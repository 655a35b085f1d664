import { useEffect, useId, type FormEvent } from 'react';
import { usePriors } from '../../state/dreamboothStudio';
import { useModelChoices } from '../../state/generateStudio';
import { MODEL_ID } from '../../state/generateStore';
import { PRIORS_LIMITS, type PriorsField } from '../../state/priorsForm';
import { NumberField, SamplerField } from '../FormFields';

const { count, steps, guidanceScale } = PRIORS_LIMITS;

/** How many class images and how they are sampled; each problem shown beside its field. */
export function PriorsForm({ blockedBy }: { blockedBy: string | null }) {
  const { form, problems, running, importing, setField, generate, baseModelId, chooseBaseModel } = usePriors();
  const options = useModelChoices((s) => s.options);
  const id = useId();
  useEffect(() => void useModelChoices.getState().refresh(), []);
  // A whole model can be personalized: the built-in one or an imported diffusers folder (a LoRA is not a base).
  const bases = options.filter((o) => o.modelId === MODEL_ID || o.imported?.kind === 'diffusers');
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
      <div className="field">
        <label htmlFor={`${id}-base`}>Base model</label>
        <select
          id={`${id}-base`}
          name="baseModel"
          value={baseModelId}
          disabled={busy}
          data-testid="priors-base-model"
          aria-describedby={`${id}-base-hint`}
          onChange={(e) => void chooseBaseModel(e.target.value)}
        >
          {bases.map((o) => (
            <option key={o.modelId} value={o.modelId}>
              {o.modelId === MODEL_ID ? 'Built-in model' : o.label}
            </option>
          ))}
          {!bases.some((o) => o.modelId === baseModelId) && <option value={baseModelId}>{baseModelId} (not stored any more)</option>}
        </select>
        <p id={`${id}-base-hint`} className="hint">
          The model you personalize: it makes these class images, and Train trains it. Import a diffusers folder on the Generate step to add one.
        </p>
      </div>
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
