import { useRef } from 'react';
import { usePriors } from '../../state/dreamboothStudio';

/** "Bring your own class photos": real photos of the class (other dogs, not yours) instead of or beside generated ones. */
export function OwnPriors({ classNoun }: { classNoun: string }) {
  const input = useRef<HTMLInputElement>(null);
  const { importing, running, addOwnFiles } = usePriors();
  return (
    <div className="drop-hint own-priors">
      <p>
        Have photos of other {classNoun ? `${classNoun}s` : 'members of the class'}? Drop them on this page, or{' '}
        <button
          type="button"
          className="secondary"
          onClick={() => input.current?.click()}
          disabled={importing !== null || running !== null}
          data-testid="priors-add-own"
        >
          Add your own class photos…
        </button>
      </p>
      <p className="hint">Not photos of your subject: those belong on step 1. Each is cropped to the centre square like your photos.</p>
      <input
        ref={input}
        type="file"
        accept="image/jpeg,image/png,image/webp,image/gif"
        multiple
        hidden
        aria-label="Choose your own class photos"
        data-testid="priors-file-input"
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          void addOwnFiles(files);
        }}
      />
      {importing && (
        <p className="preparing" role="status">
          Adding {importing.fileName}
          {importing.remaining > 1 ? `, ${importing.remaining - 1} more waiting` : ''}…
        </p>
      )}
    </div>
  );
}
