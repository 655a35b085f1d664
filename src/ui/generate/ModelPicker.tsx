import { useEffect, useId } from 'react';
import { useTrain } from '../../state/dreamboothStudio';
import { BASE_MODEL } from '../../state/generateStore';
import { useGenerate, useModelChoices } from '../../state/generateStudio';
import { checkpointPrompt } from '../../state/modelChoices';
import { useSubjects } from '../../state/studio';
import { CheckpointExport, CheckpointExportError } from '../train/CheckpointExport';
import { ModelImport } from './ModelImport';

/** Which model renders: the base model, any saved checkpoint of any subject (with its exports), or an imported model. */
export function ModelPicker() {
  const { options, error, refresh } = useModelChoices();
  const chosen = useGenerate((s) => s.chosenModel);
  const chooseModel = useGenerate((s) => s.chooseModel);
  const busy = useGenerate((s) => s.running !== null);
  const subjects = useSubjects((s) => s.subjects);
  // A checkpoint saved (or deleted) on the Train step shows up here without a reload.
  const trainedCheckpoints = useTrain((s) => s.checkpoints);
  const id = useId();

  useEffect(() => {
    void refresh();
  }, [refresh, subjects, trainedCheckpoints]);

  // The chosen checkpoint was deleted: fall back to the base model rather than render with a missing one.
  const chosenOption = options.find((o) => o.modelId === chosen.modelId);
  const checkpoint = chosenOption?.checkpoint;
  const gone = chosenOption === undefined;
  useEffect(() => {
    if (gone && !useModelChoices.getState().loading) chooseModel(BASE_MODEL);
  }, [gone, chooseModel]);

  return (
    <div className="field model-picker">
      <label htmlFor={id}>Model</label>
      <select
        id={id}
        value={chosen.modelId}
        disabled={busy}
        data-testid="model-picker"
        aria-describedby={`${id}-hint`}
        onChange={(e) => {
          const option = options.find((o) => o.modelId === e.target.value);
          if (!option) return;
          // A checkpoint (or an import that names its identifier) answers to its instance prompt: put it in the form, ready to change.
          chooseModel({ modelId: option.modelId, label: option.label }, option.trigger ? checkpointPrompt(option.trigger) : undefined);
        }}
      >
        {options.map((option) => (
          <option key={option.modelId} value={option.modelId}>
            {option.label}
          </option>
        ))}
      </select>
      <p id={`${id}-hint`} className="hint">
        {options.length > 1
          ? 'A checkpoint renders your subject: its prompt goes into the form.'
          : 'Checkpoints appear here once a subject is trained (step 3), and models you import below.'}
      </p>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {checkpoint && (
        <div className="actions">
          <CheckpointExport checkpoint={checkpoint} />
        </div>
      )}
      <CheckpointExportError />
      <ModelImport />
    </div>
  );
}
