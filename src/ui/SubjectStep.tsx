import { useState } from 'react';
import { useSubjects } from '../state/studio';
import { Notices } from './Notices';
import { PhotoSection } from './PhotoSection';
import { SubjectForm } from './SubjectForm';

/** Step 1: who or what the model learns, and the photos it learns from. */
export function SubjectStep() {
  const { subjects, activeId, loaded, loadError, setActive, deleteSubject, addSampleSubject } = useSubjects();
  const [creating, setCreating] = useState(false);
  const active = subjects.find((s) => s.id === activeId);
  const showCreate = creating || (loaded && subjects.length === 0);

  return (
    <section aria-labelledby="step-heading" className="step" data-testid="step-subject">
      <h2 id="step-heading">Subject</h2>
      <p className="lead">Teach the model one subject — your dog, a mug, a plush toy — from 3–5 photos. Photos stay in this browser.</p>
      {loadError && (
        <p className="notice notice-error" role="alert">
          {loadError}
        </p>
      )}
      <Notices />

      <div className="subject-bar">
        {subjects.length > 0 && (
          <fieldset className="subject-list">
            <legend>Subjects</legend>
            {subjects.map((s) => (
              <label key={s.id} className="subject-choice">
                <input type="radio" name="active-subject" checked={s.id === activeId} onChange={() => void setActive(s.id)} />
                <span>{s.name}</span> <span className="muted">({s.photos.length})</span>
              </label>
            ))}
          </fieldset>
        )}
        <div className="actions">
          {!showCreate && (
            <button type="button" className="secondary" onClick={() => setCreating(true)}>
              New subject
            </button>
          )}
          <button type="button" className="secondary" onClick={() => void addSampleSubject()}>
            Try the sample subject
          </button>
        </div>
      </div>

      {showCreate ? (
        <div className="panel">
          <h3>New subject</h3>
          <SubjectForm onDone={subjects.length > 0 || creating ? () => setCreating(false) : undefined} />
        </div>
      ) : (
        active && (
          <>
            <details className="panel" open={active.photos.length === 0}>
              <summary>
                <strong>{active.name}</strong> —{' '}
                <q>
                  a photo of {active.identifier} {active.classNoun}
                </q>
              </summary>
              <SubjectForm key={active.id} subject={active} />
              <button
                type="button"
                className="danger"
                onClick={() => {
                  if (confirm(`Delete “${active.name}” and its photos from this browser?`)) void deleteSubject(active.id);
                }}
              >
                Delete subject
              </button>
            </details>
            <PhotoSection subject={active} />
          </>
        )
      )}
    </section>
  );
}
