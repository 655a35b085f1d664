import { useEffect, useState } from 'react';
import { loadBlob } from '../storage/subjectRecords';
import { studioStore } from '../state/studio';

/** An object URL for a blob stored under `sha256`, revoked when no longer shown. */
export function useStoredBlobUrl(sha256: string): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    let objectUrl: string | undefined;
    let live = true;
    void loadBlob(studioStore, sha256).then((blob) => {
      if (!live || !blob) return;
      objectUrl = URL.createObjectURL(blob);
      setUrl(objectUrl);
    });
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [sha256]);
  return url;
}
