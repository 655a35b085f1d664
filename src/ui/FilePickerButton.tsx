import { useRef, type ButtonHTMLAttributes } from 'react';
import { IMAGE_MIME } from '../subjects/imageHeader';

/** The picture types the studio reads (the photo rules' formats). */
export const PICTURE_TYPES = Object.values(IMAGE_MIME).join(',');

/**
 * A button that opens the file chooser — the keyboard-reachable twin of dropping files on the page. The hidden
 * input is cleared after each choice, so choosing the same file again (after a fix) is seen.
 */
export function FilePickerButton({
  accept,
  multiple = true,
  inputLabel,
  inputTestId,
  onFiles,
  ...button
}: ButtonHTMLAttributes<HTMLButtonElement> & { accept: string; multiple?: boolean; inputLabel: string; inputTestId: string; onFiles(files: File[]): void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" {...button} onClick={() => input.current?.click()} />
      <input
        ref={input}
        type="file"
        accept={accept}
        multiple={multiple}
        hidden
        aria-label={inputLabel}
        data-testid={inputTestId}
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          onFiles(files);
        }}
      />
    </>
  );
}
