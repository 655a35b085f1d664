import { useCallback, useEffect } from 'react';
import { usePriors } from '../state/dreamboothStudio';
import { useBatch } from '../state/generateStudio';
import { isModelFile } from '../state/modelChoices';
import { useNavigation } from '../state/navigationStore';
import { useBackend, useSubjects } from '../state/studio';
import { BackendBadge } from './BackendBadge';
import { GenerateStep } from './generate/GenerateStep';
import { PriorsStep } from './priors/PriorsStep';
import { Stepper } from './Stepper';
import { SubjectStep } from './SubjectStep';
import { TrainStep } from './train/TrainStep';
import { usePageFileDrop } from './usePageFileDrop';
import { importModelFiles } from './generate/ModelImport';

export function App() {
  const step = useNavigation((s) => s.step);
  const goTo = useNavigation((s) => s.goTo);
  const addFiles = useSubjects((s) => s.addFiles);

  useEffect(() => {
    void useBackend.getState().probe();
    void useSubjects.getState().load();
  }, []);

  // On the Generate step dropped model files (LoRA, its embedding, a model .zip) are imported and anything else is a
  // batch job; on Class priors, the person's own class photos; anywhere else, photos of the subject.
  const onDrop = useCallback(
    (files: File[]) => {
      if (step === 'generate') {
        if (files.some(isModelFile)) importModelFiles(files);
        else void useBatch.getState().importFile(files[0]!);
        return;
      }
      if (step === 'priors') {
        void usePriors.getState().addOwnFiles(files);
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
      <main>{step === 'subject' ? <SubjectStep /> : step === 'priors' ? <PriorsStep /> : step === 'train' ? <TrainStep /> : <GenerateStep />}</main>
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          {step === 'generate'
            ? 'Drop a LoRA, a model .zip or a JSONL batch file to import it'
            : step === 'priors'
              ? 'Drop photos of the class to use them as class images'
              : 'Drop photos to add them to the active subject'}
        </div>
      )}
    </div>
  );
}
