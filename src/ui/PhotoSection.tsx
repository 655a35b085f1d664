import { useId } from 'react';
import { useNavigation } from '../state/navigationStore';
import { useSubjects } from '../state/studio';
import { notice } from '../state/notices';
import type { Subject } from '../subjects/subject';
import { checkReadyToProceed, SUBJECT_IMAGE_COUNT } from '../subjects/subjectRules';
import { FilePickerButton, PICTURE_TYPES } from './FilePickerButton';
import { PhotoCard } from './PhotoCard';

const STAGE_TEXT = { checking: 'checking', decoding: 'decoding', cropping: 'cropping' } as const;

/** The active subject's photos: add (picker or drop anywhere on the page), review crops, remove, continue. */
export function PhotoSection({ subject }: { subject: Subject }) {
  const addFiles = useSubjects((s) => s.addFiles);
  const preparing = useSubjects((s) => s.preparing);
  const cancelAdding = useSubjects((s) => s.cancelAdding);
  const goTo = useNavigation((s) => s.goTo);
  const headingId = useId();
  const count = subject.photos.length;
  const { min, max } = SUBJECT_IMAGE_COUNT;

  function proceed() {
    const problem = checkReadyToProceed(count);
    if (problem) useSubjects.setState((s) => ({ notices: [...s.notices, notice('error', problem, subject.id)] }));
    else goTo('priors');
  }

  return (
    <section aria-labelledby={headingId} className="photos">
      <h3 id={headingId}>
        Photos{' '}
        <span className="count" data-testid="photo-count">
          {count} of {min}–{max}
        </span>
      </h3>
      <div className="drop-hint">
        <p>
          Drop {min}–{max} photos of <strong>{subject.name}</strong> anywhere on this page, or{' '}
          <FilePickerButton
            accept={PICTURE_TYPES}
            inputLabel="Choose photos"
            inputTestId="file-input"
            onFiles={(files) => void addFiles(files)}
            disabled={count >= max}
          >
            Choose photos…
          </FilePickerButton>
        </p>
        <p className="hint">
          Different angles and backgrounds work best. JPEG, PNG, WebP or GIF; the model sees the centre square (outlined), so centre the subject.
        </p>
      </div>
      {preparing && (
        <p className="preparing" role="status">
          Preparing {preparing.fileName} ({STAGE_TEXT[preparing.stage]}){preparing.remaining > 1 ? `, ${preparing.remaining - 1} more waiting` : ''}…{' '}
          <button type="button" className="secondary" onClick={cancelAdding}>
            Cancel
          </button>
        </p>
      )}
      {count > 0 && (
        <ul className="photo-grid" aria-label={`Photos of ${subject.name}`}>
          {subject.photos.map((photo) => (
            <PhotoCard key={photo.sha256} subjectId={subject.id} photo={photo} />
          ))}
        </ul>
      )}
      <div className="actions">
        <button type="button" onClick={proceed} disabled={preparing !== null}>
          Continue to Class priors
        </button>
      </div>
    </section>
  );
}
