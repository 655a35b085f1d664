import { expect, test } from './support/fixtures';
import { field, galleryItems, generateAndWait, openGenerate } from './support/generate';

// A worker that dies (or answers 'device-lost', src/protocol/jobs.test.ts) is replaced on the next request: every store
// holds the one RestartingJobClient, so the studio keeps working without a reload.
test('after the studio worker crashes, the next Generate starts a fresh worker and makes the image', async ({ page }) => {
  test.setTimeout(180_000);
  await openGenerate(page);
  await field(page, 'Steps').fill('2');
  await generateAndWait(page, 90_000);
  await expect(galleryItems(page)).toHaveCount(1);

  const [first, ...others] = page.workers().filter((w) => w.url().includes('studio'));
  expect(others).toHaveLength(0);
  const closed = first!.waitForEvent('close');
  // An uncaught error reaches the page as the Worker's `error` event, as a crash does.
  await first!.evaluate(() =>
    setTimeout(() => {
      throw new Error('simulated worker crash');
    }),
  );
  await closed;

  const started = page.waitForEvent('worker');
  await generateAndWait(page, 90_000);
  expect((await started).url()).toContain('studio');
  await expect(galleryItems(page)).toHaveCount(2);
});
