import type { Worker } from '@playwright/test';
import { expect, test, type Page } from './support/fixtures';
import { field, galleryItems, generateAndWait } from './support/generate';
import { expectRunFinished, fillTrainSettings, openStudio, openTrainSettings, savedState, stepsNav, waitForIdle } from './support/studio';

// Issue 12, "Faults": the worker dies while a checkpoint is being written (a closed tab, a crash). The studio writes a
// checkpoint's parts in one transaction and the pointer that lists it in a second (saveCheckpoint): killed between the
// two, the previous checkpoint must stay listed and intact, the new parts must be swept as orphans, and Resume must
// continue from the previous checkpoint. Real worker, real IndexedDB, real wasm training of the built-in model.

const checkpointKeys = async (page: Page) => (await savedState(page)).keys.filter((k) => k.startsWith('ckpt/'));

/**
 * Stalls the studio worker's write of the step-4 checkpoint at the one moment that matters: its parts transaction has
 * committed, and the pointer transaction has just asked whether those parts are there. The answer never comes (a request
 * object that never fires), so the pointer is never written; the worker stays alive and the test kills it then.
 * Wraps IDBObjectStore.prototype.getKey in the worker's own global: Playwright's init scripts do not run in workers,
 * and this keeps the shipped code free of test hooks.
 */
function stallPointerOfStep4(worker: Worker): Promise<void> {
  return worker.evaluate(() => {
    const scope = globalThis as typeof globalThis & { stalledCheckpoint?: string };
    const getKey = IDBObjectStore.prototype.getKey;
    IDBObjectStore.prototype.getKey = function (this: IDBObjectStore, query: IDBValidKey | IDBKeyRange) {
      if (typeof query === 'string' && /^ckpt\/.+-000004\//.test(query)) {
        scope.stalledCheckpoint = query;
        return {} as IDBRequest<IDBValidKey | undefined>;
      }
      return getKey.call(this, query);
    };
  });
}

test('worker killed between a checkpoint’s parts and its pointer → the previous checkpoint loads, orphans are swept, Resume continues from it', async ({
  page,
}) => {
  test.setTimeout(180_000);
  let studioWorker: Promise<Worker> | undefined;
  // The first studio worker only: the one after the reload must run unhindered.
  page.on('worker', (worker) => {
    if (!studioWorker && /studio/.test(worker.url())) studioWorker = stallPointerOfStep4(worker).then(() => worker);
  });
  await openStudio(page);
  await page.getByRole('button', { name: 'Try the sample subject' }).click();
  await waitForIdle(page);

  // No class images (prior loss weight 0) and no previews: only the training steps and checkpoints under test.
  await openTrainSettings(page);
  await fillTrainSettings(page, { 'Prior loss weight': '0', Steps: '4', 'Checkpoint every (steps)': '2', 'Preview samples every (steps)': '0' });
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-backend')).toHaveAttribute('data-ep', 'wasm', { timeout: 60_000 });
  await expect(page.locator('[data-testid=checkpoint][data-step="2"]')).toBeVisible({ timeout: 60_000 });
  const worker = await studioWorker!;
  const stalled = await expect
    .poll(() => worker.evaluate(() => (globalThis as { stalledCheckpoint?: string }).stalledCheckpoint), { timeout: 60_000 })
    .toMatch(/-000004\/state$/)
    .then(() => worker.evaluate(() => (globalThis as { stalledCheckpoint?: string }).stalledCheckpoint!));
  // The step-4 parts are committed, the pointer still lists step 2 alone.
  const before = await savedState(page);
  expect(before.keys).toContain(stalled);
  const pointerKey = before.keys.find((k) => k.startsWith('training/'))!;
  const listedSteps = (state: typeof before) =>
    (state.records[pointerKey] as { checkpoints: { info: { step: number } }[] }).checkpoints.map((c) => c.info.step);
  expect(listedSteps(before)).toEqual([2]);

  // Closing the page terminates its dedicated worker mid-write.
  await page.reload();
  await stepsNav(page, 'Train');
  const resume = page.getByTestId('train-resume');
  await expect(resume).toHaveText('Resume from step 2', { timeout: 30_000 });
  await expect(page.locator('[data-testid=checkpoint]')).toHaveCount(1);
  await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-points', '2');

  // The previous checkpoint is intact: a sample from it renders.
  await stepsNav(page, 'Generate');
  const picker = page.getByRole('combobox', { name: 'Model' });
  const step2 = picker.locator('option', { hasText: 'step 2' });
  await expect(step2).toHaveCount(1);
  await picker.selectOption({ label: (await step2.textContent())! });
  await field(page, 'Steps').fill('2');
  await generateAndWait(page, 60_000);
  await expect(galleryItems(page).first()).toHaveAttribute('data-model-id', /^checkpoint:/);

  // Resume sweeps the orphaned step-4 parts before it trains (same run id, so its own step 4 reuses the key later).
  await stepsNav(page, 'Train');
  await resume.click();
  await expect.poll(() => checkpointKeys(page), { intervals: [100], timeout: 60_000 }).not.toContain(stalled);
  await expectRunFinished(page, 90_000);
  // It went on from step 2: steps 3 and 4 were trained on top of the saved curve, and step 4 is listed now.
  await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-points', '4');
  await expect(page.locator('[data-testid=checkpoint][data-step="4"]')).toBeVisible();
  const after = await savedState(page);
  expect(listedSteps(after)).toEqual([2, 4]);
  expect(await checkpointKeys(page)).toHaveLength(2);
});
