import type { UseStore } from 'idb-keyval';
import { create } from 'zustand';
import { JobError } from '../protocol/jobs';
import type { PrepareImageStage } from '../protocol/studioJobs';
import { sha256Hex } from '../storage/contentHash';
import { deleteSubjectTraining } from '../storage/dreamboothRecords';
import { createSerializedApply } from '../storage/serializedApply';
import { StorageFullError } from '../storage/studioDb';
import { loadSubjects, planSubjectsChange, type SubjectsSnapshot } from '../storage/subjectRecords';
import { checkFileByteSize } from '../subjects/imageRules';
import { suggestIdentifier } from '../subjects/identifier';
import { SAMPLE_SUBJECT } from '../subjects/sampleSubject';
import type { Subject, SubjectPhoto } from '../subjects/subject';
import {
  checkSubjectFields,
  duplicatePhotoProblem,
  photosThatFit,
  SUBJECT_IMAGE_COUNT,
  type FieldProblems,
  type SubjectFields,
} from '../subjects/subjectRules';
import type { StudioClient } from '../worker/studioWorker';
import { notice, noticesFor, type Notice } from './notices';

export interface SubjectsDeps {
  store: UseStore;
  worker: StudioClient;
  /** Side of the square crop the model trains on. */
  resolution: number;
  thumbnailSize: number;
  /** URL folder the sample subject's images are served from. */
  sampleUrl: string;
}

export interface PhotoProgress {
  fileName: string;
  stage: PrepareImageStage;
  remaining: number;
}

export interface SubjectsState extends SubjectsSnapshot {
  loaded: boolean;
  loadError: string | null;
  /** Set while photos are being checked and cropped. */
  preparing: PhotoProgress | null;
  notices: Notice[];

  load(): Promise<void>;
  /** Saves a new subject and makes it active; returns field problems instead when the fields are invalid. */
  createSubject(fields: SubjectFields): Promise<FieldProblems>;
  updateSubject(id: string, fields: SubjectFields): Promise<FieldProblems>;
  deleteSubject(id: string): Promise<void>;
  setActive(id: string): Promise<void>;
  /** Adds photos to the active subject; each bad file gets its own notice and changes nothing. */
  addFiles(files: readonly File[]): Promise<void>;
  cancelAdding(): void;
  removePhoto(subjectId: string, sha256: string): Promise<void>;
  /** Creates (or re-selects) the bundled sample subject with its photos. */
  addSampleSubject(): Promise<void>;
  suggestIdentifier(): string;
  dismissNotice(id: number): void;
}

export type SubjectsStore = ReturnType<typeof createSubjectsStore>;

/** Subjects and their photos: state mirrors IndexedDB, and every change is committed there before it shows. */
export function createSubjectsStore(deps: SubjectsDeps) {
  let adding: AbortController | null = null;

  return create<SubjectsState>()((set, get) => {
    // A message about a subject that is no longer the active one (its photo finished after a switch) is out of context.
    const report = (...notices: Notice[]) => set((s) => ({ notices: noticesFor([...s.notices, ...notices], s.activeId).slice(-8) }));
    const { apply, inTurn } = createSerializedApply<SubjectsSnapshot>({
      store: deps.store,
      plan: planSubjectsChange,
      read: () => ({ subjects: get().subjects, activeId: get().activeId }),
      // Messages about a subject go when it stops being the active one.
      show: (after) => set((s) => ({ ...after, notices: after.activeId === s.activeId ? s.notices : noticesFor(s.notices, after.activeId) })),
      reportFailure(error, what) {
        const why = error instanceof StorageFullError ? error.message : `saving failed, nothing was changed: ${errorText(error)}`;
        report(notice('error', `${what} was not saved. ${why}`));
      },
    });

    /** `latest` with the subject `id` changed by `change`; null when that subject is gone. */
    const changeSubject = (latest: SubjectsSnapshot, id: string, change: (subject: Subject) => Subject | null): SubjectsSnapshot | null => {
      const subject = latest.subjects.find((s) => s.id === id);
      const changed = subject && change(subject);
      return changed ? { ...latest, subjects: latest.subjects.map((s) => (s.id === id ? changed : s)) } : null;
    };

    /** Adds one file to the active subject; returns the photo, or null after reporting why not. */
    async function addOne(file: File, signal: AbortSignal): Promise<SubjectPhoto | null> {
      const subject = get().subjects.find((s) => s.id === get().activeId);
      if (!subject) return null;
      if (photosThatFit(subject.photos.length, 1) === 0) {
        report(notice('error', `${file.name} was not added: a subject holds at most ${SUBJECT_IMAGE_COUNT.max} photos. Remove one first.`, subject.id));
        return null;
      }
      const sizeProblem = checkFileByteSize(file.size);
      if (sizeProblem) {
        report(notice('error', `${file.name} ${sizeProblem}`, subject.id));
        return null;
      }
      const bytes = await file.arrayBuffer();
      const prepared = await deps.worker.request(
        'prepareImage',
        { bytes, resolution: deps.resolution, thumbnailSize: deps.thumbnailSize },
        {
          transfer: [bytes],
          signal,
          onProgress: (stage) => set((s) => ({ preparing: s.preparing && { ...s.preparing, fileName: file.name, stage } })),
        },
      );
      const crop = new Blob([prepared.crop], { type: 'image/png' });
      const thumbnail = new Blob([prepared.thumbnail], { type: 'image/png' });
      const photo: SubjectPhoto = {
        sha256: prepared.sha256,
        fileName: file.name,
        mime: prepared.mime,
        width: prepared.width,
        height: prepared.height,
        cropSha256: await sha256Hex(prepared.crop),
        cropResolution: prepared.cropSide,
        thumbnailSha256: await sha256Hex(prepared.thumbnail),
        ...(prepared.transparent ? { transparent: true } : {}),
        ...(prepared.animated ? { animated: true } : {}),
      };
      const blobs = new Map([
        [photo.sha256, new Blob([file], { type: prepared.mime })],
        [photo.cropSha256, crop],
        [photo.thumbnailSha256, thumbnail],
      ]);
      // Built on the subject as it is when this change's turn comes (deleted, renamed or changed meanwhile).
      const saved = await apply(
        file.name,
        (latest) =>
          changeSubject(latest, subject.id, (current) => {
            const duplicate = current.photos.find((p) => p.sha256 === photo.sha256);
            if (!duplicate) return { ...current, photos: [...current.photos, photo] };
            report(notice('error', duplicatePhotoProblem(file.name, duplicate.fileName), subject.id));
            return null;
          }),
        blobs,
      );
      return saved ? photo : null;
    }

    return {
      subjects: [],
      activeId: null,
      loaded: false,
      loadError: null,
      preparing: null,
      notices: [],

      async load() {
        await inTurn(async () => {
          try {
            set({ ...(await loadSubjects(deps.store)), loaded: true, loadError: null });
          } catch (error) {
            set({ loaded: true, loadError: `Saved subjects could not be read: ${errorText(error)}` });
          }
        });
      },

      async createSubject(fields) {
        const subject: Subject = {
          id: crypto.randomUUID(),
          ...normalise(fields),
          photos: [],
          createdAt: Date.now(),
        };
        // Checked against the latest subjects, so two subjects created at once cannot share an identifier.
        let problems: FieldProblems = {};
        const saved = await apply('The change', (latest) => {
          problems = checkSubjectFields(fields, othersIdentifiers(latest, null));
          return hasProblems(problems) ? null : { subjects: [...latest.subjects, subject], activeId: subject.id };
        });
        if (saved)
          report(notice('success', `Subject “${subject.name}” created. Add ${SUBJECT_IMAGE_COUNT.min}–${SUBJECT_IMAGE_COUNT.max} photos.`, subject.id));
        return problems;
      },

      async updateSubject(id, fields) {
        let problems: FieldProblems = {};
        const saved = await apply('The change', (latest) =>
          changeSubject(latest, id, (subject) => {
            problems = checkSubjectFields(fields, othersIdentifiers(latest, id));
            return hasProblems(problems) ? null : { ...subject, ...normalise(fields) };
          }),
        );
        if (saved) report(notice('success', 'Subject saved.', id));
        return problems;
      },

      async deleteSubject(id) {
        const saved = await apply('The change', (latest) => {
          const subjects = latest.subjects.filter((s) => s.id !== id);
          const activeId = latest.activeId === id ? (subjects[0]?.id ?? null) : latest.activeId;
          return { subjects, activeId };
        });
        if (!saved) return;
        // Then its checkpoints and class-image selection (the prior images stay: other subjects may use them).
        try {
          await inTurn(() => deleteSubjectTraining(deps.store, id));
        } catch (error) {
          report(notice('error', `The subject was deleted, but its checkpoints could not be: ${errorText(error)}`));
        }
      },

      async setActive(id) {
        await apply('The change', (latest) => (latest.activeId === id ? null : { ...latest, activeId: id }));
      },

      async addFiles(files) {
        if (files.length === 0) return;
        if (!get().subjects.some((s) => s.id === get().activeId)) {
          report(notice('error', 'Create a subject first (name and class noun), then add its photos.'));
          return;
        }
        if (adding) {
          report(notice('error', 'Photos are still being added; wait for them or cancel first.'));
          return;
        }
        adding = new AbortController();
        const { signal } = adding;
        const subjectId = get().activeId;
        const added: string[] = [];
        try {
          for (const [i, file] of files.entries()) {
            if (signal.aborted) break;
            set({ preparing: { fileName: file.name, stage: 'checking', remaining: files.length - i } });
            try {
              const photo = await addOne(file, signal);
              if (photo) added.push(photo.fileName);
            } catch (error) {
              if (error instanceof JobError && error.code === 'cancelled') break;
              const text = error instanceof JobError && error.code === 'bad-input' ? error.message : `could not be added: ${errorText(error)}`;
              report(notice('error', `${file.name} ${text}`, subjectId));
            }
          }
          if (added.length > 0) report(notice('success', `Added ${added.length} photo${added.length === 1 ? '' : 's'}: ${added.join(', ')}.`, subjectId));
          if (signal.aborted) report(notice('info', 'Adding photos was cancelled; photos added before that are kept.', subjectId));
        } finally {
          adding = null;
          set({ preparing: null });
        }
      },

      cancelAdding() {
        adding?.abort();
      },

      async removePhoto(subjectId, sha256) {
        await apply('The change', (latest) =>
          changeSubject(latest, subjectId, (subject) => ({ ...subject, photos: subject.photos.filter((p) => p.sha256 !== sha256) })),
        );
      },

      async addSampleSubject() {
        const existing = get().subjects.find((s) => s.name === SAMPLE_SUBJECT.name);
        if (existing) {
          await get().setActive(existing.id);
          return;
        }
        let files: File[];
        try {
          files = await Promise.all(
            SAMPLE_SUBJECT.photos.map(async ({ fileName }) => {
              const response = await fetch(`${deps.sampleUrl}${fileName}`);
              if (!response.ok) throw new Error(`${fileName}: HTTP ${response.status}`);
              return new File([await response.blob()], fileName, { type: response.headers.get('Content-Type') ?? '' });
            }),
          );
        } catch (error) {
          report(notice('error', `The sample photos could not be loaded: ${errorText(error)}`));
          return;
        }
        const { name, classNoun } = SAMPLE_SUBJECT;
        await get().createSubject({ name, classNoun, identifier: get().suggestIdentifier() });
        if (get().subjects.find((s) => s.id === get().activeId)?.name === name) await get().addFiles(files);
      },

      suggestIdentifier() {
        return suggestIdentifier(get().subjects.map((s) => s.identifier));
      },

      dismissNotice(id) {
        set((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
      },
    };
  });
}

const normalise = (fields: SubjectFields): SubjectFields => ({
  name: fields.name.trim(),
  classNoun: fields.classNoun.trim().toLowerCase(),
  identifier: fields.identifier.trim().toLowerCase(),
});

const othersIdentifiers = (snapshot: SubjectsSnapshot, exceptId: string | null) => snapshot.subjects.filter((s) => s.id !== exceptId).map((s) => s.identifier);

const hasProblems = (problems: FieldProblems) => Object.keys(problems).length > 0;

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
