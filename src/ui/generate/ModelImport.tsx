import { useRef } from 'react';
import { useGenerate, useModelChoices } from '../../state/generateStudio';
import { checkpointPrompt, type ModelOption } from '../../state/modelChoices';

/** Imports files through the model store and picks the model they became (with its instance prompt, when it names one). */
export function importModelFiles(files: readonly File[]): void {
  void useModelChoices
    .getState()
    .importFiles(files)
    .then((option: ModelOption | null) => {
      if (option)
        useGenerate.getState().chooseModel({ modelId: option.modelId, label: option.label }, option.trigger ? checkpointPrompt(option.trigger) : undefined);
    });
}

/**
 * Beside the model picker: import a LoRA (.safetensors, with its embedding file if it has one, or a .zip of both) or a
 * diffusers model folder (a .zip or the folder itself), and delete the imported model that is chosen.
 */
export function ModelImport() {
  const files = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);
  const { importing, importError, options, deleteImported } = useModelChoices();
  const chosen = useGenerate((s) => s.chosenModel);
  const busy = useGenerate((s) => s.running !== null);
  const imported = options.find((o) => o.modelId === chosen.modelId)?.imported;

  const take = (input: HTMLInputElement) => {
    const picked = [...(input.files ?? [])];
    input.value = '';
    if (picked.length) importModelFiles(picked);
  };

  return (
    <div className="model-import" data-testid="model-import">
      <div className="actions">
        <button type="button" className="secondary small" onClick={() => files.current?.click()} disabled={importing !== null}>
          Import LoRA or model (.safetensors, .zip)…
        </button>
        <button type="button" className="secondary small" onClick={() => folder.current?.click()} disabled={importing !== null}>
          Import diffusers folder…
        </button>
        {imported && (
          <button
            type="button"
            className="secondary small danger-text"
            disabled={busy}
            data-testid="delete-imported"
            onClick={() => {
              if (confirm(`Delete the imported model “${imported.name}”?`)) void deleteImported(imported.id);
            }}
          >
            Delete imported model<span className="visually-hidden"> {imported.name}</span>
          </button>
        )}
        <input
          ref={files}
          type="file"
          multiple
          accept=".safetensors,.zip,application/zip"
          hidden
          aria-label="Import a LoRA .safetensors (with its embedding file) or a model .zip"
          data-testid="model-file-input"
          onChange={(e) => take(e.target)}
        />
        <input
          ref={folder}
          type="file"
          // React has no typed prop for it; every current browser supports choosing a directory this way.
          {...{ webkitdirectory: '' }}
          hidden
          aria-label="Import a diffusers model folder"
          data-testid="model-folder-input"
          onChange={(e) => take(e.target)}
        />
      </div>
      <p className="hint">Or drop the files anywhere on this page. A LoRA must be made for the base model; nothing is stored unless it fits.</p>
      {importing && (
        <p className="hint" role="status" data-testid="import-status">
          Checking {importing}…
        </p>
      )}
      {importError && (
        <p className="field-error" role="alert" data-testid="import-error">
          {importError}
        </p>
      )}
    </div>
  );
}
