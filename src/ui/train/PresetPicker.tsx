import { useId } from 'react';
import { PRESETS } from '../../dreambooth/trainSettings';
import { useTrain } from '../../state/dreamboothStudio';

/** The three recipes, each with when to pick it; a changed setting makes the choice "Custom". */
export function PresetPicker({ disabled }: { disabled: boolean }) {
  const presetId = useTrain((s) => s.presetId);
  const choose = useTrain((s) => s.choosePreset);
  const name = useId();
  return (
    <fieldset className="panel presets" disabled={disabled} data-testid="preset-picker">
      <legend>Preset</legend>
      {PRESETS.map((preset) => (
        <label key={preset.id} className="preset" data-testid={`preset-${preset.id}`}>
          <input type="radio" name={name} value={preset.id} checked={presetId === preset.id} onChange={() => choose(preset.id)} />
          <span>
            <strong>{preset.title}</strong>{' '}
            <span className="muted">
              · {preset.settings.steps} steps, {preset.settings.classImages} class images
            </span>
            <span className="hint preset-description">{preset.description}</span>
          </span>
        </label>
      ))}
      {presetId === null && (
        <p className="hint" data-testid="preset-custom">
          <strong>Custom:</strong> your changes under Advanced settings. Pick a preset to start from its values again.
        </p>
      )}
    </fieldset>
  );
}
