import { STEPS, useNavigation } from '../state/navigationStore';

/** The four steps of the flow; every step can be opened, and each says for itself what it needs. */
export function Stepper() {
  const { step, goTo } = useNavigation();
  return (
    <nav aria-label="Steps" className="stepper">
      <ol>
        {STEPS.map((s, i) => (
          <li key={s.id}>
            <button type="button" aria-current={s.id === step ? 'step' : undefined} onClick={() => goTo(s.id)}>
              <span className="step-number" aria-hidden="true">{i + 1}</span>
              {/* "Step 4: Generate": the tab's name differs from the Generate step's own submit button. */}
              <span className="visually-hidden">Step {i + 1}: </span>
              {s.title}
            </button>
          </li>
        ))}
      </ol>
    </nav>
  );
}
