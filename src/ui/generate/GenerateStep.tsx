import { useCallback, useEffect, useRef } from 'react';
import { useGallery, useGenerate } from '../../state/generateStudio';
import type { GalleryItem } from '../../storage/galleryRecords';
import { BatchPanel } from './BatchPanel';
import { Gallery } from './Gallery';
import { GenerateForm } from './GenerateForm';
import { ModelStatus } from './ModelStatus';
import { RecontextPanel } from './RecontextPanel';
import { RunPanel } from './RunPanel';
import { useDreamboothBlock } from './useDreamboothBlock';
import './generate.css';

/** Step 4: prompts to pictures with the base model or a trained checkpoint, a recontextualization grid, a gallery and batch jobs. */
export function GenerateStep() {
  const prompt = useRef<HTMLTextAreaElement>(null);

  const blockedBy = useDreamboothBlock();
  useEffect(() => {
    if (!useGallery.getState().loaded) void useGallery.getState().load();
  }, []);
  // Preparing the model compiles sessions in the worker: not while training or class images use it (it would slow
  // them down and, on a GPU, compete for memory) — once they are done.
  useEffect(() => {
    if (!blockedBy && useGenerate.getState().model.status === 'idle') void useGenerate.getState().loadModel();
  }, [blockedBy]);

  // Re-run: the form takes the image's settings, and the prompt comes into view with focus — on the next
  // frame, after a closing dialog has handed focus back to its opener.
  const rerun = useCallback((item: GalleryItem) => {
    useGenerate.getState().fillFrom(item);
    requestAnimationFrame(() => {
      prompt.current?.focus({ preventScroll: true });
      prompt.current?.scrollIntoView({ block: 'center', behavior: 'smooth' });
    });
  }, []);

  return (
    <section aria-labelledby="step-heading" className="step generate-step" data-testid="step-generate">
      <h2 id="step-heading">Generate</h2>
      <p className="lead">Write a prompt and render it with the base model — no subject is needed — or with a checkpoint trained on step 3.</p>
      <ModelStatus />
      <div className="generate-layout">
        <GenerateForm promptRef={prompt} />
        <RunPanel />
      </div>
      <RecontextPanel />
      <BatchPanel />
      <Gallery onRerun={rerun} />
    </section>
  );
}
