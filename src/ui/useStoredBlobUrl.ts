import { useEffect, useState } from 'react';
import { loadBlob } from '../storage/subjectRecords';
import { studioStore } from '../state/studio';

/** An object URL for a blob stored under `sha256` (by `load`: subject blobs unless told), revoked when no longer shown. */
export function useStoredBlobUrl(sha256: string, load: typeof loadBlob = loadBlob): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    let objectUrl: string | undefined;
    let live = true;
    void load(studioStore, sha256).then((blob) => {
      if (!live || !blob) return;
      objectUrl = URL.createObjectURL(blob);
      setUrl(objectUrl);
    });
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [sha256, load]);
  return url;
}
