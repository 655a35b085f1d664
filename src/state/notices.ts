/** A message shown to the person: what happened, and for problems, what to do. */
export interface Notice {
  id: number;
  tone: 'error' | 'success' | 'info';
  text: string;
  /** The subject the message is about: it goes when another subject becomes the active one. */
  subjectId?: string;
}

/** How long a success message stays before it fades (problems stay until dismissed or out of context). */
export const SUCCESS_NOTICE_MS = 6000;

let nextNoticeId = 1;

export const notice = (tone: Notice['tone'], text: string, subjectId?: string | null): Notice =>
  subjectId ? { id: nextNoticeId++, tone, text, subjectId } : { id: nextNoticeId++, tone, text };

/** The notices still in context once `activeId` is the active subject. */
export const noticesFor = (notices: readonly Notice[], activeId: string | null): Notice[] =>
  notices.filter((n) => n.subjectId === undefined || n.subjectId === activeId);
