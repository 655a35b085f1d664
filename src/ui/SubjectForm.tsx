import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { useSubjects } from '../state/studio';
import { instancePrompt, type Subject } from '../subjects/subject';
import type { FieldProblems, SubjectFields } from '../subjects/subjectRules';

interface Props {
  /** The subject to edit; absent to create a new one. */
  subject?: Subject;
  onDone?: () => void;
}

/** Name, class noun and identifier of a subject, checked before anything is saved. */
export function SubjectForm({ subject, onDone }: Props) {
  const createSubject = useSubjects((s) => s.createSubject);
  const updateSubject = useSubjects((s) => s.updateSubject);
  const suggest = useSubjects((s) => s.suggestIdentifier);
  const [fields, setFields] = useState<SubjectFields>(() =>
    subject ? { name: subject.name, classNoun: subject.classNoun, identifier: subject.identifier } : { name: '', classNoun: '', identifier: suggest() },
  );
  const [problems, setProblems] = useState<FieldProblems>({});
  const [saving, setSaving] = useState(false);
  const id = useId();

  const edit = (key: keyof SubjectFields) => (value: string) => setFields((f) => ({ ...f, [key]: value }));
  const changed = !subject || fields.name !== subject.name || fields.classNoun !== subject.classNoun || fields.identifier !== subject.identifier;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSaving(true);
    const found = subject ? await updateSubject(subject.id, fields) : await createSubject(fields);
    setSaving(false);
    setProblems(found);
    if (Object.keys(found).length === 0) onDone?.();
  }

  const field = (key: keyof SubjectFields, label: string, hint: string, extra?: ReactNode) => (
    <div className="field">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <div className="field-row">
        <input
          id={`${id}-${key}`}
          name={key}
          value={fields[key]}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={problems[key] ? true : undefined}
          aria-describedby={`${id}-${key}-hint${problems[key] ? ` ${id}-${key}-error` : ''}`}
          onChange={(e) => edit(key)(e.target.value)}
        />
        {extra}
      </div>
      <p id={`${id}-${key}-hint`} className="hint">
        {hint}
      </p>
      {problems[key] && (
        <p id={`${id}-${key}-error`} className="field-error" role="alert">
          {problems[key]}
        </p>
      )}
    </div>
  );

  const prompt = instancePrompt({
    identifier: fields.identifier.trim().toLowerCase() || '…',
    classNoun: fields.classNoun.trim().toLowerCase() || '…',
  });

  return (
    <form className="subject-form" onSubmit={submit} noValidate aria-label={subject ? 'Edit subject' : 'New subject'}>
      {field('name', 'Name', 'For you only, e.g. “Rex” or “Grandma’s mug”.')}
      {field('classNoun', 'Class noun', 'What the subject is, in one to three words: “dog”, “mug”, “plush toy”.')}
      {field(
        'identifier',
        'Identifier',
        'A new, rare word the model learns for this subject. Prompts say it before the class noun, so the rare ' +
          'word takes on your subject’s look while the class noun keeps its ordinary meaning.',
        <button type="button" className="secondary" onClick={() => edit('identifier')(suggest())}>
          Suggest another
        </button>,
      )}
      <p className="prompt-preview">
        Training prompt: <q data-testid="prompt-preview">{prompt}</q>
      </p>
      <div className="actions">
        <button type="submit" disabled={saving || !changed}>
          {subject ? 'Save changes' : 'Create subject'}
        </button>
        {onDone && !subject && (
          <button type="button" className="secondary" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
