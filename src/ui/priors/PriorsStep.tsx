import { useEffect } from 'react';
import { usePriors, useTrain } from '../../state/dreamboothStudio';
import { useGenerate } from '../../state/generateStudio';
import { useNavigation } from '../../state/navigationStore';
import { selectedCount } from '../../state/priorsStore';
import { useSubjects } from '../../state/studio';
import { isActive } from '../../state/trainStore';
import { generationBackendLabel } from '../generate/backendText';
import { NoticeList } from '../Notices';
import { StepState, type StepStateName } from '../StepState';
import { TechnicalDetail } from '../TechnicalDetail';
import { OwnPriors } from './OwnPriors';
import { PriorGrid } from './PriorGrid';
import { PriorsForm } from './PriorsForm';
import { PriorsProgress } from './PriorsProgress';
import './priors.css';

/** Step 2: images of the class ("a photo of a dog") that keep training from forgetting what the class looks like. */
export function PriorsStep() {
  const subject = useSubjects((s) => s.subjects.find((x) => x.id === s.activeId));
  const subjectsLoaded = useSubjects((s) => s.loaded);
  const priors = usePriors();
  const training = useTrain((s) => (isActive(s.run) ? s.run : null));
  const generating = useGenerate((s) => s.running);
  const goTo = useNavigation((s) => s.goTo);

  useEffect(() => {
    if (subject && usePriors.getState().subjectId !== subject.id) void usePriors.getState().load();
  }, [subject]);

  // One activity at a time (the worker's device is shared): say what blocks, rather than queue it unseen.
  const blockedBy = training ? 'Training is running.' : generating ? 'An image is being generated on the Generate step.' : null;
  const selected = selectedCount(priors.images);
  const dropped = priors.images.length - selected;
  const own = priors.images.filter((i) => i.source === 'own').length;
  const state: StepStateName = !subject ? 'empty' : priors.running ? 'running' : priors.failure ? 'failed' : selected > 0 ? 'done' : 'ready';

  return (
    <section aria-labelledby="step-heading" className="step priors-step" data-testid="step-priors">
      <h2 id="step-heading">Class priors</h2>
      <p className="lead">
        Images of the class in general — “a photo of a {subject?.classNoun || 'dog'}” — made with the base model. Training on them beside your photos keeps the
        model from forgetting what the class looks like (prior preservation).
      </p>
      <StepState state={state} testId="priors-state">
        {state === 'empty'
          ? 'No subject yet'
          : state === 'running'
            ? 'Making class images'
            : state === 'failed'
              ? 'Failed'
              : state === 'done'
                ? `${selected} class image${selected === 1 ? '' : 's'} selected`
                : 'Ready to make class images'}
      </StepState>

      {!subject ? (
        subjectsLoaded && (
          <div className="panel">
            <p>Class images are made for a subject’s class noun (e.g. “dog”). Create a subject first.</p>
            <button type="button" onClick={() => goTo('subject')}>
              Go to step 1: Subject
            </button>
          </div>
        )
      ) : (
        <>
          <p data-testid="priors-class">
            For <strong>{subject.name}</strong>: <q>a photo of {subject.classNoun}</q>
          </p>
          {priors.loadError && (
            <p className="notice notice-error" role="alert">
              {priors.loadError}
            </p>
          )}
          {priors.staleClass && (
            <p className="notice notice-error" role="alert" data-testid="priors-stale">
              These class images show “{priors.staleClass}”, but the subject’s class is now “{subject.classNoun}”. Generate again to make images of “
              {subject.classNoun}”.
            </p>
          )}
          {priors.missing > 0 && (
            <p className="notice notice-info" role="status">
              {priors.missing} saved class image{priors.missing === 1 ? ' is' : 's are'} gone from this browser’s storage. Generate again to make{' '}
              {priors.missing === 1 ? 'it' : 'them'} anew.
            </p>
          )}
          <PriorsForm blockedBy={blockedBy} />
          <PriorsProgress />
          {priors.outcome && (
            <p className="notice notice-info" role="status" data-testid="priors-outcome">
              {priors.outcome}
            </p>
          )}
          {priors.failure && (
            <div className="notice notice-error" role="alert" data-testid="priors-failure">
              <div>
                <p>
                  <strong>Making class images failed:</strong> {priors.failure.reason}
                </p>
                <p>{priors.failure.fix}</p>
                <TechnicalDetail detail={priors.failure.detail} />
              </div>
            </div>
          )}
          <NoticeList notices={priors.notices} onDismiss={priors.dismissNotice} testId="priors-notices" />

          <section aria-labelledby="prior-grid-heading">
            <h3 id="prior-grid-heading">
              Class images{' '}
              <span className="count" data-testid="priors-summary">
                {selected} selected for training{dropped > 0 ? ` · ${dropped} dropped` : ''}
                {own > 0 ? ` · ${own} your own` : ''}
              </span>
            </h3>
            {priors.lastRun && !priors.running && (
              <p className="hint" data-testid="priors-last-run">
                Last run: {priors.lastRun.generated} made, {priors.lastRun.reused} reused (already made with the same settings) in{' '}
                {(priors.lastRun.ms / 1000).toFixed(1)} s{priors.lastRun.backend ? ` on ${generationBackendLabel(priors.lastRun.backend)}` : ''}.
              </p>
            )}
            {priors.loaded && priors.images.length === 0 && !priors.running && (
              <p className="muted" data-testid="priors-empty">
                None yet. Generate them above, or add your own photos of the class below. Drop any that do not look like a {subject.classNoun}: they would teach
                the model the wrong thing.
              </p>
            )}
            <PriorGrid />
          </section>
          <OwnPriors classNoun={subject.classNoun} />
          <div className="actions">
            <button type="button" onClick={() => goTo('train')} data-testid="priors-continue">
              Continue to Train
            </button>
          </div>
        </>
      )}
    </section>
  );
}
