import { useCallback, useEffect } from 'react';
import { useNavigation } from '../state/navigationStore';
import { useBackend, useSubjects } from '../state/studio';
import { BackendBadge } from './BackendBadge';
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

  const onDrop = useCallback(
    (files: File[]) => {
      goTo('subject');
      void addFiles(files);
    },
    [addFiles, goTo],
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
        {step === 'subject' ? <SubjectStep /> : <UnavailableStep step={step} />}
      </main>
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          Drop photos to add them to the active subject
        </div>
      )}
    </div>
  );
}
