import { usePromptLength } from './usePromptLength';

/** "12 / 75 tokens", and past the limit the words the text encoder will not read, as other SD tools show it. */
export function PromptLengthNote({ text, id }: { text: string; id: string }) {
  const length = usePromptLength(text);
  if (!length) return null;
  const over = length.tokens > length.limit;
  return (
    <p id={id} className={over ? 'hint token-count token-count-over' : 'hint token-count'} data-testid="token-count" aria-live="polite">
      {length.tokens} / {length.limit} tokens
      {over && (
        <>
          {' '}
          — the text encoder reads {length.limit}; these words are cut: <q data-testid="token-cut">{length.cut}</q>
        </>
      )}
    </p>
  );
}
