import { useEffect, useState } from 'react';
import type { PromptLength } from '../../text/promptLength';
import { studioWorker } from '../../worker/studioWorker';

/** The prompt's token count from the worker (which holds the tokenizer), asked for once typing pauses. */
export function usePromptLength(text: string): PromptLength | null {
  const [length, setLength] = useState<PromptLength | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      studioWorker()
        .request('measurePrompt', text, { signal: controller.signal })
        .then(setLength, () => undefined); // a count superseded by more typing, or a worker restarting: the next one comes
    }, 150);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [text]);
  return length;
}
