import { usePriors } from '../../state/dreamboothStudio';
import { FilePickerButton, PICTURE_TYPES } from '../FilePickerButton';

/** "Bring your own class photos": real photos of the class (other dogs, not yours) instead of or beside generated ones. */
export function OwnPriors({ classNoun }: { classNoun: string }) {
  const { importing, running, addOwnFiles } = usePriors();
  return (
    <div className="drop-hint own-priors">
      <p>
        Have photos of other {classNoun ? `${classNoun}s` : 'members of the class'}? Drop them on this page, or{' '}
        <FilePickerButton
          className="secondary"
          accept={PICTURE_TYPES}
          inputLabel="Choose your own class photos"
          inputTestId="priors-file-input"
          onFiles={(files) => void addOwnFiles(files)}
          disabled={importing !== null || running !== null}
          data-testid="priors-add-own"
        >
          Add your own class photos…
        </FilePickerButton>
      </p>
      <p className="hint">Not photos of your subject: those belong on step 1. Each is cropped to the centre square like your photos.</p>
      {importing && (
        <p className="preparing" role="status">
          Adding {importing.fileName}
          {importing.remaining > 1 ? `, ${importing.remaining - 1} more waiting` : ''}…
        </p>
      )}
    </div>
  );
}
