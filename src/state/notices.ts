/** A message shown to the person: what happened, and for problems, what to do. */
export interface Notice {
  id: number;
  tone: 'error' | 'success' | 'info';
  text: string;
}

let nextNoticeId = 1;

export const notice = (tone: Notice['tone'], text: string): Notice => ({ id: nextNoticeId++, tone, text });
