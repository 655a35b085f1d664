import { useCallback, useEffect } from 'react';
import { useBatch } from '../state/generateStudio';
import { useNavigation } from '../state/navigationStore';
import { useBackend, useSubjects } from '../state/studio';
import { BackendBadge } from './BackendBadge';
import { GenerateStep } from './generate/GenerateStep';
import { Stepper } from './Stepper';
import { SubjectStep } from './SubjectStep';
import { UnavailableStep } from './UnavailableStep';
import { usePageFileDrop } from './usePageFileDrop';

export function App() {
  const step = useNavigation((s) => s.step);
  const goTo = useNavigation((s) => s.goTo);
  const addFiles = useSubjects((s) => s.addFiles);

  useEffect(() => {
    void useBackend.getState().probe();
    void useSubjects.getState().load();
  }, []);

  // On the Generate step a dropped file is a batch job; anywhere else, photos of the subject.
  const onDrop = useCallback(
    (files: File[]) => {
      if (step === 'generate') {
        void useBatch.getState().importFile(files[0]!);
        return;
      }
      goTo('subject');
      void addFiles(files);
    },
    [addFiles, goTo, step],
  );
  const dragging = usePageFileDrop(onDrop);

  return (
    <div className="app">
      <header className="app-header">
        <h1>DreamBooth Studio</h1>
        <BackendBadge />
      </header>
      <Stepper />
      <main>
        {step === 'subject' ? <SubjectStep /> : step === 'generate' ? <GenerateStep /> : <UnavailableStep step={step} />}
      </main>
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          {step === 'generate' ? 'Drop a JSONL batch file to import it' : 'Drop photos to add them to the active subject'}
        </div>
      )}
    </div>
  );
}
