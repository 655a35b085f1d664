import { useSubjects } from '../state/studio';
import type { SubjectPhoto } from '../subjects/subject';
import { useStoredBlobUrl } from './useStoredBlobUrl';

/** One photo: the square the model sees, and where that square sits in the whole photo. */
export function PhotoCard({ subjectId, photo }: { subjectId: string; photo: SubjectPhoto }) {
  const removePhoto = useSubjects((s) => s.removePhoto);
  const cropUrl = useStoredBlobUrl(photo.cropSha256);
  const thumbnailUrl = useStoredBlobUrl(photo.thumbnailSha256);
  const square = Math.min(photo.width, photo.height);
  // The whole photo's longer side is 56px, whatever its shape.
  const wholeSize = photo.width >= photo.height ? { width: '56px' } : { height: '56px' };
  const cropBox = {
    left: `${((photo.width - square) / 2 / photo.width) * 100}%`,
    top: `${((photo.height - square) / 2 / photo.height) * 100}%`,
    width: `${(square / photo.width) * 100}%`,
    height: `${(square / photo.height) * 100}%`,
  };

  return (
    <li className="photo-card" data-testid="photo-card" data-sha256={photo.sha256}>
      <figure>
        <img
          className="crop"
          src={cropUrl}
          width={photo.cropResolution}
          height={photo.cropResolution}
          alt={`The ${photo.cropResolution}×${photo.cropResolution} crop the model sees of ${photo.fileName}`}
          data-testid="photo-crop"
        />
        <figcaption>
          <span className="whole" style={{ aspectRatio: `${photo.width} / ${photo.height}`, ...wholeSize }}>
            {thumbnailUrl && <img src={thumbnailUrl} alt={`${photo.fileName}, whole photo`} data-testid="photo-thumbnail" />}
            <span className="crop-box" style={cropBox} aria-hidden="true" />
          </span>
          <span className="photo-facts">
            <span className="file-name" title={photo.fileName}>
              {photo.fileName}
            </span>
            <span className="dimensions" data-testid="photo-dimensions">
              {photo.width}×{photo.height}
            </span>
            {photo.transparent && (
              <span className="photo-note" data-testid="photo-note">
                Transparent parts are filled with white, as the model sees them.
              </span>
            )}
            {photo.animated && (
              <span className="photo-note" data-testid="photo-note">
                Animated: only the first frame is used.
              </span>
            )}
          </span>
        </figcaption>
      </figure>
      <button type="button" className="secondary" onClick={() => void removePhoto(subjectId, photo.sha256)}>
        Remove<span className="visually-hidden"> {photo.fileName}</span>
      </button>
    </li>
  );
}
