import { useSubjects } from '../state/studio';

/** Outcome messages of the last actions; errors say what was wrong and what to do. */
export function Notices() {
  const notices = useSubjects((s) => s.notices);
  const dismiss = useSubjects((s) => s.dismissNotice);
  return (
    <ul className="notices" aria-live="polite" data-testid="notices">
      {notices.map((n) => (
        <li key={n.id} className={`notice notice-${n.tone}`} data-tone={n.tone}>
          <span>{n.text}</span>
          <button type="button" className="ghost" aria-label="Dismiss message" onClick={() => dismiss(n.id)}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}
