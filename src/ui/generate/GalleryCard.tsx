import { loadGalleryImage, type GalleryItem } from '../../storage/galleryRecords';
import { useStoredBlobUrl } from '../useStoredBlobUrl';
import { confirmDelete, downloadGalleryItem } from './galleryActions';

interface Props {
  item: GalleryItem;
  onView(item: GalleryItem): void;
  onRerun(item: GalleryItem): void;
}

/** A gallery thumbnail with its prompt and seed, and the four things one does with it. */
export function GalleryCard({ item, onView, onRerun }: Props) {
  const url = useStoredBlobUrl(item.imageSha256, loadGalleryImage);
  const what = `seed ${item.params.seed}`;
  return (
    <li className="gallery-card" data-testid="gallery-item" data-seed={item.params.seed} data-ep={item.backend.ep} data-model-id={item.model.id}>
      <button type="button" className="thumb" onClick={() => onView(item)} aria-label={`View larger: ${item.params.prompt || '(no prompt)'}, ${what}`}>
        {url ? <img src={url} alt="" data-testid="gallery-image" /> : <span className="thumb-placeholder" />}
      </button>
      <p className="card-prompt" title={item.params.prompt}>
        {item.params.prompt || <span className="muted">(no prompt)</span>}
      </p>
      <p className="card-facts muted">
        Seed {item.params.seed} · {item.params.steps} steps{item.model.label ? ` · ${item.model.label}` : ''}
        {item.model.untrained ? ' · untrained' : ''}
      </p>
      <div className="card-actions">
        <button type="button" className="secondary small" onClick={() => onRerun(item)}>
          Re-run<span className="visually-hidden"> {what}</span>
        </button>
        <button type="button" className="secondary small" onClick={() => void downloadGalleryItem(item)}>
          Download<span className="visually-hidden"> {what}</span>
        </button>
        <button type="button" className="secondary small danger-text" onClick={() => confirmDelete(item)}>
          Delete<span className="visually-hidden"> {what}</span>
        </button>
      </div>
    </li>
  );
}
