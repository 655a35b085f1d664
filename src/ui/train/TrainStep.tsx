import { useEffect } from 'react';
import { usePriors, useTrain } from '../../state/dreamboothStudio';
import { useBatch, useGenerate } from '../../state/generateStudio';
import { useNavigation } from '../../state/navigationStore';
import { selectedCount } from '../../state/priorsStore';
import { useSubjects } from '../../state/studio';
import { isActive } from '../../state/trainStore';
import { checkReadyToProceed } from '../../subjects/subjectRules';
import { StepState, type StepStateName } from '../StepState';
import { AdvancedSettings } from './AdvancedSettings';
import { CheckpointList } from './CheckpointList';
import { PresetPicker } from './PresetPicker';
import { TrainControls } from './TrainControls';
import { TrainRunPanel } from './TrainRunPanel';
import '../priors/priors.css';
import './train.css';

/** Step 3: fine-tune the model on the subject's photos and the class images, with progress, loss and previews. */
export function TrainStep() {
  const subject = useSubjects((s) => s.subjects.find((x) => x.id === s.activeId));
  const subjectsLoaded = useSubjects((s) => s.loaded);
  const { run, failure, checkpoints, checkpointsFor, form } = useTrain();
  const priors = usePriors();
  const generating = useGenerate((s) => s.running !== null);
  const batchRunning = useBatch((s) => s.running);
  const goTo = useNavigation((s) => s.goTo);
  const active = isActive(run);

  useEffect(() => {
    if (!subject) return;
    if (useTrain.getState().checkpointsFor !== subject.id) void useTrain.getState().refreshCheckpoints(subject.id);
    if (usePriors.getState().subjectId !== subject.id) void usePriors.getState().load();
  }, [subject]);

  const classImages = priors.subjectId === subject?.id ? selectedCount(priors.images) : 0;
  const withPriors = Number(form.priorLossWeight) > 0;
  const notReady = !subject
    ? 'Create a subject first (step 1).'
    : (checkReadyToProceed(subject.photos.length) ??
      (withPriors && classImages === 0 && priors.loaded
        ? 'Make class images on step 2 first, or set the prior loss weight to 0 under Advanced settings.'
        : null));
  const blockedBy = priors.running
    ? 'Class images are being made on step 2; training can start once they are done.'
    : generating || batchRunning
      ? 'Images are being generated on the Generate step; training can start once that is done.'
      : null;
  const runOfThisSubject = run && run.subjectId === subject?.id ? run : null;
  const latest = checkpointsFor === subject?.id ? checkpoints[0] : undefined;
  const state: StepStateName = active
    ? 'running'
    : failure && runOfThisSubject
      ? 'failed'
      : latest && latest.step >= latest.totalSteps
        ? 'done'
        : latest
          ? 'paused'
          : subject && !notReady
            ? 'ready'
            : 'empty';

  return (
    <section aria-labelledby="step-heading" className="step train-step" data-testid="step-train">
      <h2 id="step-heading">Train</h2>
      <p className="lead">
        Fine-tune the model on your photos and the class images, in this browser. The loss chart and preview samples show when to stop; checkpoints are saved as
        it goes.
      </p>
      <StepState state={state} testId="train-state">
        {state === 'paused' && latest
          ? `Paused at step ${latest.step} of ${latest.totalSteps}`
          : state === 'done'
            ? 'Trained'
            : state === 'empty'
              ? 'Not ready yet'
              : undefined}
      </StepState>

      {!subject ? (
        subjectsLoaded && (
          <div className="panel">
            <p>Training personalises the model to a subject. Create one and add its photos first.</p>
            <button type="button" onClick={() => goTo('subject')}>
              Go to step 1: Subject
            </button>
          </div>
        )
      ) : (
        <>
          <p data-testid="train-subject">
            <strong>{subject.name}</strong>: {subject.photos.length} photo{subject.photos.length === 1 ? '' : 's'} of{' '}
            <q>
              a photo of {subject.identifier} {subject.classNoun}
            </q>{' '}
            ·{' '}
            {withPriors ? (
              <>
                {classImages} class image{classImages === 1 ? '' : 's'} of <q>a photo of {subject.classNoun}</q>{' '}
                <button type="button" className="link-button" onClick={() => goTo('priors')}>
                  change
                </button>
              </>
            ) : (
              'no class images (prior loss weight 0)'
            )}
          </p>
          {active && run.subjectId !== subject.id && (
            <p className="notice notice-info" role="status">
              Another subject is training; its progress is shown below. Switch back to it on step 1 to see its checkpoints.
            </p>
          )}
          <PresetPicker disabled={active} />
          <AdvancedSettings disabled={active} />
          <TrainControls blockedBy={blockedBy} notReady={notReady} />
          <TrainRunPanel />
          <CheckpointList subject={subject} locked={active && run.subjectId === subject.id} training={active} />
        </>
      )}
    </section>
  );
}
