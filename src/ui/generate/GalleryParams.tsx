import { A1111_SAMPLER_NAMES } from '../../export/infotext';
import type { GalleryItem } from '../../storage/galleryRecords';
import { generationBackendLabel } from './backendText';

/** The model that made an image: the checkpoint's stored label, else the base model (older records have no label). */
export const galleryModelLabel = (item: GalleryItem) => item.model.label ?? (item.model.id === 'builtin' ? 'Base model (built-in)' : item.model.id);

/** Every setting and fact stored with an image. */
export function GalleryParams({ item }: { item: GalleryItem }) {
  const { params, usage } = item;
  return (
    <dl className="params" data-testid="gallery-params">
      <dt>Prompt</dt>
      <dd data-testid="param-prompt">{params.prompt || <span className="muted">(empty)</span>}</dd>
      <dt>Negative prompt</dt>
      <dd data-testid="param-negative">{params.negativePrompt || <span className="muted">(none)</span>}</dd>
      <dt>Sampler</dt>
      <dd data-testid="param-sampler">{A1111_SAMPLER_NAMES[params.sampler]}</dd>
      <dt>Steps</dt>
      <dd data-testid="param-steps">{params.steps}</dd>
      <dt>Guidance scale</dt>
      <dd data-testid="param-guidance">{params.guidanceScale}</dd>
      <dt>Seed</dt>
      <dd data-testid="param-seed">{params.seed}</dd>
      <dt>Size</dt>
      <dd>
        {params.width}×{params.height}
      </dd>
      <dt>Model</dt>
      <dd data-testid="param-model" data-model-id={item.model.id}>
        {galleryModelLabel(item)}
        {item.model.untrained ? ' (untrained: seeded random weights)' : ''}
      </dd>
      <dt>Ran on</dt>
      <dd data-testid="param-backend" data-ep={item.backend.ep}>
        {generationBackendLabel(item.backend)}
      </dd>
      <dt>Cost</dt>
      <dd>
        {usage.unetEvaluations} UNet evaluations, {Math.round(usage.modelMs)} ms model time
      </dd>
      {item.customId !== undefined && (
        <>
          <dt>Batch request</dt>
          <dd>{item.customId}</dd>
        </>
      )}
      <dt>Made</dt>
      <dd>{new Date(item.createdAt).toLocaleString()}</dd>
    </dl>
  );
}
