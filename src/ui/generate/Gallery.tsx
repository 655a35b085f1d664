import { useState } from 'react';
import { useGallery } from '../../state/generateStudio';
import type { GalleryItem } from '../../storage/galleryRecords';
import { NoticeList } from '../Notices';
import { GalleryCard } from './GalleryCard';
import { GalleryViewer } from './GalleryViewer';

/** Every image kept in this browser, newest first. */
export function Gallery({ onRerun }: { onRerun(item: GalleryItem): void }) {
  const { items, loaded, loadError, notices, dismissNotice } = useGallery();
  const [viewing, setViewing] = useState<GalleryItem | null>(null);

  return (
    <section className="gallery" aria-labelledby="gallery-heading" data-testid="gallery">
      <h3 id="gallery-heading">
        Gallery{' '}
        <span className="count" data-testid="gallery-count">
          {items.length} {items.length === 1 ? 'image' : 'images'}
        </span>
      </h3>
      {loadError && (
        <p className="notice notice-error" role="alert">
          {loadError}
        </p>
      )}
      <NoticeList notices={notices} onDismiss={dismissNotice} testId="gallery-notices" />
      {loaded && items.length === 0 && <p className="muted">Nothing yet. Every image you generate is kept here, in this browser, with its settings.</p>}
      <ul className="gallery-grid" aria-label="Generated images">
        {items.map((item) => (
          <GalleryCard key={item.id} item={item} onView={setViewing} onRerun={onRerun} />
        ))}
      </ul>
      {viewing && <GalleryViewer item={viewing} onRerun={onRerun} onClose={() => setViewing(null)} />}
    </section>
  );
}
