import { usePriors, useTrain } from '../state/dreamboothStudio';
import { useBatch, useGenerate } from '../state/generateStudio';
import type { StepId } from '../state/navigationStore';
import { selectedCount } from '../state/priorsStore';
import { useSubjects } from '../state/studio';
import { isActive } from '../state/trainStore';
import { SUBJECT_IMAGE_COUNT } from '../subjects/subjectRules';
import type { StepStateName } from './StepState';

/** Each step's state for the stepper, so running work stays visible from every step. */
export function useStepStates(): Record<StepId, StepStateName> {
  const subject = useSubjects((s) => s.subjects.find((x) => x.id === s.activeId));
  const priorsRunning = usePriors((s) => s.running !== null);
  const priorsFailed = usePriors((s) => s.failure !== null);
  const priorsSelected = usePriors((s) => (s.subjectId === subject?.id ? selectedCount(s.images) : 0));
  const run = useTrain((s) => s.run);
  const latest = useTrain((s) => (s.checkpointsFor === subject?.id ? s.checkpoints[0] : undefined));
  const generating = useGenerate((s) => s.running !== null);
  const batch = useBatch((s) => s.running);
  const withPriors = useTrain((s) => Number(s.form.priorLossWeight) > 0);
  // Training can start once the subject has its photos and (with prior preservation) class images.
  const trainReady = subject !== undefined && subject.photos.length >= SUBJECT_IMAGE_COUNT.min && (!withPriors || priorsSelected > 0);
  const trainFailed = run?.status === 'failed';
  return {
    subject: !subject ? 'empty' : subject.photos.length >= SUBJECT_IMAGE_COUNT.min ? 'done' : 'ready',
    priors: priorsRunning ? 'running' : priorsFailed ? 'failed' : priorsSelected > 0 ? 'done' : subject ? 'ready' : 'empty',
    train: isActive(run)
      ? 'running'
      : trainFailed
        ? 'failed'
        : latest
          ? latest.step >= latest.totalSteps
            ? 'done'
            : 'paused'
          : trainReady
            ? 'ready'
            : 'empty',
    generate: generating || batch ? 'running' : 'ready',
  };
}
