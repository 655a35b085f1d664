import 'fake-indexeddb/auto';
import { createStore, entries, set, type UseStore } from 'idb-keyval';
import { beforeEach, describe, expect, it } from 'vitest';
import { presetSettings } from '../dreambooth/trainSettings';
import type { PreparedImage } from '../protocol/studioJobs';
import { saveCheckpoint, savePriorSelection } from '../storage/dreamboothRecords';
import { blobKey, loadSubjects } from '../storage/subjectRecords';
import { blobHashes } from '../subjects/subject';
import type { StudioClient } from '../worker/studioWorker';
import { createSubjectsStore } from './subjectsStore';

let store: UseStore;
let dbCounter = 0;
beforeEach(() => {
  store = createStore(`subjects-store-test-${dbCounter++}`, 'records');
});

/** Stands in for the worker's prepareImage: the file's own bytes as crop and thumbnail, tagged so their hashes differ. */
const preparingWorker = {
  async request(_type: 'prepareImage', payload: { bytes: ArrayBuffer; resolution: number }): Promise<PreparedImage> {
    const text = new TextDecoder().decode(payload.bytes);
    const encode = (tag: string) => new TextEncoder().encode(`${tag} ${text}`).buffer as ArrayBuffer;
    return {
      sha256: `orig-${text}`,
      mime: 'image/jpeg',
      width: 100,
      height: 80,
      crop: encode('crop'),
      cropSide: payload.resolution,
      thumbnail: encode('thumb'),
      transparent: false,
      animated: false,
    };
  },
} as unknown as StudioClient;

const makeStore = () => createSubjectsStore({ store, worker: preparingWorker, resolution: 64, thumbnailSize: 32, sampleUrl: '/sample/' });
const storedBlobKeys = async () =>
  (await entries(store))
    .map(([k]) => String(k))
    .filter((k) => k.startsWith('blob/'))
    .sort();

describe('subjects store', () => {
  it('keeps both a rename and a photo added at the same time, in the screen and in storage, with no stray blobs', async () => {
    const subjects = makeStore();
    expect(await subjects.getState().createSubject({ name: 'Rex', classNoun: 'dog', identifier: 'zorvak' })).toEqual({});
    const id = subjects.getState().activeId!;

    await Promise.all([
      subjects.getState().addFiles([new File(['photo-1'], 'one.jpg', { type: 'image/jpeg' })]),
      subjects.getState().updateSubject(id, { name: 'Rex II', classNoun: 'dog', identifier: 'zorvak' }),
    ]);

    const shown = subjects.getState().subjects;
    expect(shown.map((s) => [s.name, s.photos.map((p) => p.fileName)])).toEqual([['Rex II', ['one.jpg']]]);
    expect(await loadSubjects(store)).toEqual({ subjects: shown, activeId: id });
    expect(await storedBlobKeys()).toEqual(shown.flatMap(blobHashes).map(blobKey).sort());
    expect(subjects.getState().notices.filter((n) => n.tone === 'error')).toEqual([]);
  });

  it('keeps a photo added while a second subject is created and made active', async () => {
    const subjects = makeStore();
    await subjects.getState().createSubject({ name: 'Rex', classNoun: 'dog', identifier: 'zorvak' });
    const rex = subjects.getState().activeId!;

    await Promise.all([
      subjects.getState().addFiles([new File(['photo-1'], 'one.jpg')]),
      subjects.getState().createSubject({ name: 'Tom', classNoun: 'cat', identifier: 'qelmin' }),
    ]);

    const shown = subjects.getState();
    expect(shown.subjects.map((s) => [s.name, s.photos.length])).toEqual([
      ['Rex', 1],
      ['Tom', 0],
    ]);
    expect(shown.subjects.find((s) => s.id === rex)?.photos[0]?.fileName).toBe('one.jpg');
    expect(await loadSubjects(store)).toEqual({ subjects: shown.subjects, activeId: shown.activeId });
    expect(await storedBlobKeys()).toEqual(shown.subjects.flatMap(blobHashes).map(blobKey).sort());
  });

  it('drops messages about a subject once another one is active', async () => {
    const subjects = makeStore();
    await subjects.getState().createSubject({ name: 'Rex', classNoun: 'dog', identifier: 'zorvak' });
    await subjects.getState().addFiles([new File(['photo-1'], 'one.jpg')]);
    await subjects.getState().addFiles([new File(['photo-1'], 'again.jpg')]);
    expect(subjects.getState().notices.map((n) => n.text)).toContain('again.jpg is the same file as one.jpg, already in this subject.');

    await subjects.getState().createSubject({ name: 'Twelve', classNoun: 'cat', identifier: 'qelmin' });
    expect(subjects.getState().notices.map((n) => [n.tone, n.text])).toEqual([['success', 'Subject “Twelve” created. Add 3–5 photos.']]);
    // Back to Rex: Twelve's message goes too, and Rex's old problem does not come back.
    await subjects.getState().setActive(subjects.getState().subjects[0]!.id);
    expect(subjects.getState().notices).toEqual([]);
  });
  it('deletes a subject’s checkpoints and class-image selection with it, and keeps the prior images', async () => {
    const subjects = makeStore();
    await subjects.getState().createSubject({ name: 'Rex', classNoun: 'dog', identifier: 'zorvak' });
    await subjects.getState().createSubject({ name: 'Tom', classNoun: 'cat', identifier: 'qelmin' });
    const [rex, tom] = subjects.getState().subjects.map((s) => s.id);
    for (const subjectId of [rex!, tom!]) {
      await savePriorSelection(store, {
        subjectId,
        classNoun: 'dog',
        keys: ['k1'],
        dropped: [],
        settings: { count: 1, seed: 0, sampler: 'ddim', steps: 2, guidanceScale: 7.5, modelId: 'builtin' },
      });
      const info = { id: `${subjectId}-c1`, subjectId, runId: 'r', step: 1, totalSteps: 2, bytes: 1, weightBytes: 1, createdAt: 1, loss: 0 };
      const trained = { settings: presetSettings('quick'), identifier: 'x', classNoun: 'dog', baseModelId: 'builtin' };
      await saveCheckpoint(store, { info: { ...info, ...trained }, parts: { state: new Blob(['s']) } }, 3);
    }
    await set('prior/k1', { key: 'k1' }, store);

    await subjects.getState().deleteSubject(rex!);
    const stored = (await entries(store)).map(([k]) => String(k)).filter((k) => !k.startsWith('subject'));
    expect(stored.sort()).toEqual([`ckpt/${tom}-c1/state`, 'prior/k1', `priors/${tom}`, `training/${tom}`].sort());
    expect(subjects.getState().notices.filter((n) => n.tone === 'error')).toEqual([]);
  });
});
