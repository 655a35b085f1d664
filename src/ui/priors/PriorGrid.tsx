import { usePriors } from '../../state/dreamboothStudio';
import type { PriorImage } from '../../state/priorsStore';

/** The class images: each can be dropped from training (and taken back); dropped ones stay visible, dimmed. */
export function PriorGrid() {
  const images = usePriors((s) => s.images);
  const running = usePriors((s) => s.running);
  const toggle = usePriors((s) => s.toggleDropped);
  if (images.length === 0) return null;
  return (
    <ul className="prior-grid" aria-label="Class images" data-testid="prior-grid">
      {images.map((image, i) => (
        <PriorCell key={image.key} image={image} index={i} disabled={running !== null} onToggle={() => void toggle(image.key)} />
      ))}
    </ul>
  );
}

function PriorCell({ image, index, disabled, onToggle }: { image: PriorImage; index: number; disabled: boolean; onToggle(): void }) {
  const name = `class image ${index + 1}${image.source === 'own' ? ' (your photo)' : ''}`;
  return (
    <li
      className={`prior-cell${image.dropped ? ' dropped' : ''}`}
      data-testid="prior-image"
      data-key={image.key}
      data-source={image.source}
      data-reused={image.reused ? 'true' : 'false'}
      data-dropped={image.dropped ? 'true' : 'false'}
    >
      <img src={image.url} alt={`${name[0]!.toUpperCase()}${name.slice(1)}${image.dropped ? ', dropped' : ''}`} />
      <span className="prior-badge muted">{image.source === 'own' ? 'yours' : image.reused ? 'reused' : 'new'}</span>
      <button type="button" className="secondary small" aria-pressed={image.dropped} onClick={onToggle} disabled={disabled}>
        {image.dropped ? 'Keep' : 'Drop'}
        <span className="visually-hidden"> {name}</span>
      </button>
    </li>
  );
}
