import type { SamplerName } from '../diffusion/schedulerConfig';
import { SAMPLER_OPTIONS } from '../state/generateForm';

/**
 * A labelled number field as the studio's forms show it: typed as text (so a half-typed value stays visible and
 * the form names what is wrong), its hint, and its problem announced beside it.
 */
export function NumberField(p: {
  /** Element id; the hint and the error get `${id}-hint` / `${id}-error`. */
  id: string;
  name: string;
  label: string;
  hint: string;
  value: string;
  problem: string | undefined;
  decimal?: boolean;
  errorTestId?: string;
  onChange(value: string): void;
}) {
  return (
    <div className="field">
      <label htmlFor={p.id}>{p.label}</label>
      <input
        id={p.id}
        name={p.name}
        inputMode={p.decimal ? 'decimal' : 'numeric'}
        autoComplete="off"
        value={p.value}
        aria-invalid={p.problem ? true : undefined}
        aria-describedby={`${p.id}-hint${p.problem ? ` ${p.id}-error` : ''}`}
        onChange={(e) => p.onChange(e.target.value)}
      />
      <p id={`${p.id}-hint`} className="hint">
        {p.hint}
      </p>
      {p.problem && (
        <p id={`${p.id}-error`} className="field-error" role="alert" data-testid={p.errorTestId}>
          {p.problem}
        </p>
      )}
    </div>
  );
}

/** The sampler choice, with the names other tools use for each. */
export function SamplerField({ id, value, onChange }: { id: string; value: SamplerName; onChange(value: SamplerName): void }) {
  return (
    <div className="field">
      <label htmlFor={id}>Sampler</label>
      <select id={id} name="sampler" value={value} onChange={(e) => onChange(e.target.value as SamplerName)}>
        {SAMPLER_OPTIONS.map((option) => (
          <option key={option.id} value={option.id}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}
