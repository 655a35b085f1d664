import type { Notice } from '../state/notices';
import { useSubjects } from '../state/studio';

/** Outcome messages of the last actions; errors say what was wrong and what to do. */
export function NoticeList({ notices, onDismiss, testId }: { notices: readonly Notice[]; onDismiss(id: number): void; testId: string }) {
  return (
    <ul className="notices" aria-live="polite" data-testid={testId}>
      {notices.map((n) => (
        <li key={n.id} className={`notice notice-${n.tone}`} data-tone={n.tone}>
          <span>{n.text}</span>
          <button type="button" className="ghost" aria-label="Dismiss message" onClick={() => onDismiss(n.id)}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

/** The Subject step's messages. */
export function Notices() {
  const notices = useSubjects((s) => s.notices);
  const dismiss = useSubjects((s) => s.dismissNotice);
  return <NoticeList notices={notices} onDismiss={dismiss} testId="notices" />;
}
