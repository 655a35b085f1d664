import { studioStore } from '../../state/studio';
import { useGallery } from '../../state/generateStudio';
import { loadGalleryImage, type GalleryItem } from '../../storage/galleryRecords';
import { notice } from '../../state/notices';
import { downloadBlob, pngFileName } from './download';

/** Downloads the stored PNG (its `parameters` chunk included) as `<seed>-<prompt>.png`. */
export async function downloadGalleryItem(item: GalleryItem): Promise<void> {
  const blob = await loadGalleryImage(studioStore, item.imageSha256);
  if (!blob) {
    useGallery.setState((s) => ({ notices: [...s.notices, notice('error', 'That image is missing from browser storage; it may have been cleared.')] }));
    return;
  }
  downloadBlob(blob, pngFileName(item.params));
}

/** Deletes an item after asking, as the subject list does. */
export function confirmDelete(item: GalleryItem): void {
  if (confirm(`Delete the image “${item.params.prompt || '(no prompt)'}”, seed ${item.params.seed}, from the gallery?`)) {
    void useGallery.getState().remove(item.id);
  }
}
