import { useId } from 'react';
import { useTrain } from '../../state/dreamboothStudio';
import type { TrainField, TrainFormValues } from '../../state/trainForm';
import { TRAIN_FIELD_GROUPS, type FieldSpec } from './trainFields';

/** Every training setting, checked as it is typed; a bad value is named beside its field, in the contract's words. */
export function AdvancedSettings({ disabled }: { disabled: boolean }) {
  const problems = useTrain((s) => s.problems);
  const count = Object.keys(problems).length;
  return (
    <details className="panel advanced" data-testid="train-advanced" open={count > 0 ? true : undefined}>
      <summary>Advanced settings{count > 0 && <span className="field-error"> — {count} to fix</span>}</summary>
      <fieldset className="advanced-body" disabled={disabled}>
        <legend className="visually-hidden">Training settings</legend>
        {TRAIN_FIELD_GROUPS.map((group) => (
          <fieldset key={group.title} className="field-group">
            <legend>{group.title}</legend>
            <div className="field-grid">
              {group.fields.map((spec) => (
                <SettingField key={spec.field} spec={spec} />
              ))}
            </div>
          </fieldset>
        ))}
      </fieldset>
    </details>
  );
}

function SettingField({ spec }: { spec: FieldSpec }) {
  const { field, label, hint, control } = spec;
  const value = useTrain((s) => s.form[field]);
  const problem = useTrain((s) => s.problems[field]);
  const setField = useTrain((s) => s.setField);
  const id = useId();
  const set = (v: TrainFormValues[TrainField]) => setField(field, v as never);
  const describedBy = `${id}-hint${problem ? ` ${id}-error` : ''}`;
  const common = { id, name: field, 'aria-describedby': describedBy, 'aria-invalid': problem ? true : undefined } as const;
  return (
    <div className={`field${control.kind === 'checkbox' ? ' field-checkbox' : ''}`} data-testid={`train-field-${field}`}>
      {control.kind === 'checkbox' ? (
        <label htmlFor={id} className="choice">
          <input type="checkbox" {...common} checked={value === true} onChange={(e) => set(e.target.checked)} /> {label}
        </label>
      ) : (
        <label htmlFor={id}>{label}</label>
      )}
      {control.kind === 'number' && (
        <input {...common} inputMode={control.decimal ? 'decimal' : 'numeric'} autoComplete="off" value={String(value)} onChange={(e) => set(e.target.value)} />
      )}
      {control.kind === 'select' && (
        <select {...common} value={String(value)} onChange={(e) => set(e.target.value)}>
          {control.options.map((option) => (
            <option key={option.id} value={option.id}>
              {option.label}
            </option>
          ))}
        </select>
      )}
      <p id={`${id}-hint`} className="hint">
        {hint}
      </p>
      {problem && (
        <p id={`${id}-error`} className="field-error" role="alert" data-testid={`train-error-${field}`}>
          {problem}
        </p>
      )}
    </div>
  );
}
