import { useEffect } from 'react';
import { SUCCESS_NOTICE_MS, type Notice } from '../state/notices';
import { useSubjects } from '../state/studio';

/** Outcome messages of the last actions; errors say what was wrong and what to do. Successes fade by themselves. */
export function NoticeList({ notices, onDismiss, testId }: { notices: readonly Notice[]; onDismiss(id: number): void; testId: string }) {
  return (
    <ul className="notices" aria-live="polite" data-testid={testId}>
      {notices.map((n) => (
        <NoticeItem key={n.id} notice={n} onDismiss={onDismiss} />
      ))}
    </ul>
  );
}

function NoticeItem({ notice: n, onDismiss }: { notice: Notice; onDismiss(id: number): void }) {
  useEffect(() => {
    if (n.tone !== 'success') return;
    const timer = setTimeout(() => onDismiss(n.id), SUCCESS_NOTICE_MS);
    return () => clearTimeout(timer);
  }, [n, onDismiss]);
  return (
    <li className={`notice notice-${n.tone}`} data-tone={n.tone}>
      <span>{n.text}</span>
      <button type="button" className="ghost" aria-label="Dismiss message" onClick={() => onDismiss(n.id)}>
        ×
      </button>
    </li>
  );
}

/** The Subject step's messages. */
export function Notices() {
  const notices = useSubjects((s) => s.notices);
  const dismiss = useSubjects((s) => s.dismissNotice);
  return <NoticeList notices={notices} onDismiss={dismiss} testId="notices" />;
}
