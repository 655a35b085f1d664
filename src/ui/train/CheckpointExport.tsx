import type { CheckpointInfo, ExportFormat } from '../../dreambooth/jobTypes';
import { exportFormats } from '../../state/checkpointExportStore';
import { useCheckpointExport } from '../../state/dreamboothStudio';
import { downloadBlob } from '../generate/download';

const BUTTONS: Record<ExportFormat, { label: string; title: string }> = {
  'lora-peft': { label: 'Export LoRA (diffusers)', title: 'peft key names: pipe.load_lora_weights() in diffusers' },
  'lora-kohya': { label: 'Export LoRA (kohya / A1111)', title: 'kohya key names: AUTOMATIC1111, ComfyUI and kohya’s scripts' },
  'diffusers-folder': {
    label: 'Export model (.zip, diffusers folder)',
    title: 'The whole fine-tuned model: StableDiffusionPipeline.from_pretrained() on the unzipped folder',
  },
  'training-job': { label: 'Export training job (.zip)', title: 'Photos, class images, base model and a train.sh for diffusers’ train_dreambooth_lora.py' },
};

/** A checkpoint's export buttons: the file is built in the worker and downloaded under its own name. */
export function CheckpointExport({ checkpoint, disabled = false }: { checkpoint: CheckpointInfo; disabled?: boolean }) {
  const running = useCheckpointExport((s) => s.running);
  const exportCheckpoint = useCheckpointExport((s) => s.exportCheckpoint);
  return (
    <span className="checkpoint-export" role="group" aria-label={`Export the checkpoint at step ${checkpoint.step}`}>
      {exportFormats(checkpoint).map((format) => {
        const busy = running?.checkpointId === checkpoint.id && running.format === format;
        return (
          <button
            key={format}
            type="button"
            className="secondary small"
            title={BUTTONS[format].title}
            disabled={disabled || running !== null}
            aria-busy={busy}
            data-testid={`export-${format}`}
            onClick={async () => {
              const file = await exportCheckpoint(checkpoint, format);
              if (file) downloadBlob(new Blob([file.bytes], { type: file.mime }), file.fileName);
            }}
          >
            {busy ? 'Exporting…' : BUTTONS[format].label}
          </button>
        );
      })}
    </span>
  );
}

/** Why the last export failed, shown once beside the buttons. */
export function CheckpointExportError() {
  const error = useCheckpointExport((s) => s.error);
  if (!error) return null;
  return (
    <p className="notice notice-error" role="alert" data-testid="export-error">
      {error}
    </p>
  );
}
