import { STEPS, useNavigation } from '../state/navigationStore';
import { stepStateLabel } from './StepState';
import { useStepStates } from './useStepStates';

/** The four steps of the flow with each one's state; every step can be opened, and each says for itself what it needs. */
export function Stepper() {
  const { step, goTo } = useNavigation();
  const states = useStepStates();
  return (
    <nav aria-label="Steps" className="stepper">
      <ol>
        {STEPS.map((s, i) => (
          <li key={s.id}>
            <button
              type="button"
              aria-current={s.id === step ? 'step' : undefined}
              onClick={() => goTo(s.id)}
              data-testid={`stepper-${s.id}`}
              data-state={states[s.id]}
            >
              <span className="step-number" aria-hidden="true">
                {i + 1}
              </span>
              {/* "Step 4: Generate": the tab's name differs from the Generate step's own submit button. */}
              <span className="visually-hidden">Step {i + 1}: </span>
              {s.title}
              <span className={`step-state step-state-${states[s.id]}`}>
                <span className="visually-hidden">, </span>
                {stepStateLabel(states[s.id])}
              </span>
            </button>
          </li>
        ))}
      </ol>
    </nav>
  );
}
