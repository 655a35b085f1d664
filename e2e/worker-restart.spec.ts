import { expect, test } from './support/fixtures';
import { field, galleryItems, generateAndWait, openGenerate } from './support/generate';

// A worker that dies (or answers 'device-lost', src/protocol/jobs.test.ts) is replaced on the next request: every store
// holds the one RestartingJobClient, so the studio keeps working without a reload.
test('after the studio worker crashes, a fresh worker starts, the badge asks it again, and the next Generate makes the image', async ({ page }) => {
  test.setTimeout(180_000);
  await openGenerate(page);
  await field(page, 'Steps').fill('2');
  await generateAndWait(page, 90_000);
  await expect(galleryItems(page)).toHaveCount(1);

  const [first, ...others] = page.workers().filter((w) => w.url().includes('studio'));
  expect(others).toHaveLength(0);
  const badge = page.getByTestId('backend-badge');
  await expect(badge).toBeVisible();
  const before = await badge.getAttribute('data-backend');
  const closed = first!.waitForEvent('close');
  const started = page.waitForEvent('worker');
  // An uncaught error reaches the page as the Worker's `error` event, as a crash does.
  await first!.evaluate(() =>
    setTimeout(() => {
      throw new Error('simulated worker crash');
    }),
  );
  await closed;
  // The page asks a fresh worker what it computes on at once (the badge must not describe a dead worker's device)…
  expect((await started).url()).toContain('studio');
  await expect(badge).toHaveAttribute('data-backend', before!);

  // …and the next Generate runs on it.
  await generateAndWait(page, 90_000);
  expect(page.workers().filter((w) => w.url().includes('studio'))).toHaveLength(1);
  await expect(galleryItems(page)).toHaveCount(2);
});
