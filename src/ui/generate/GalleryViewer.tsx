import { useEffect, useRef } from 'react';
import type { GalleryItem } from '../../storage/galleryRecords';
import { loadGalleryImage } from '../../storage/galleryRecords';
import { useStoredBlobUrl } from '../useStoredBlobUrl';
import { confirmDelete, downloadGalleryItem } from './galleryActions';
import { GalleryParams } from './GalleryParams';

interface Props {
  item: GalleryItem;
  onRerun(item: GalleryItem): void;
  onClose(): void;
}

/** One image, large, with everything stored about it; a modal dialog (Esc closes it). */
export function GalleryViewer({ item, onRerun, onClose }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  const url = useStoredBlobUrl(item.imageSha256, loadGalleryImage);
  useEffect(() => {
    const element = dialog.current;
    element?.showModal();
    // Focus goes to Close, at the bottom: without preventScroll a long prompt would scroll the image out of view.
    closeButton.current?.focus({ preventScroll: true });
    if (element) element.scrollTop = 0;
    return () => element?.close();
  }, []);

  return (
    <dialog ref={dialog} className="gallery-viewer" aria-label="Image details" onClose={onClose} data-testid="gallery-viewer">
      <div className="viewer-body">
        {url && <img src={url} alt={`Generated image, seed ${item.params.seed}`} className="viewer-image" />}
        <GalleryParams item={item} />
      </div>
      <div className="actions">
        <button type="button" onClick={() => (onRerun(item), onClose())}>
          Re-run these settings
        </button>
        <button type="button" className="secondary" onClick={() => void downloadGalleryItem(item)}>
          Download PNG
        </button>
        <button type="button" className="secondary danger-text" onClick={() => (confirmDelete(item), onClose())}>
          Delete
        </button>
        <button type="button" className="secondary" onClick={onClose} ref={closeButton}>
          Close
        </button>
      </div>
    </dialog>
  );
}
