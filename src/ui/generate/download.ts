import type { GalleryParams } from '../../storage/galleryRecords';

/** Saves a blob under a file name through a temporary link (the browser's own download). */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // The click has handed the URL to the download; revoking later keeps slow browsers from losing it.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** `<seed>-<start of the prompt>.png`, as AUTOMATIC1111 names its outputs, safe on every file system. */
export function pngFileName(params: Pick<GalleryParams, 'seed' | 'prompt'>): string {
  const words = params.prompt
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return `${params.seed}${words ? `-${words.toLowerCase()}` : ''}.png`;
}
