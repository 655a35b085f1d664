import { expect, test, type Page } from './support/fixtures';
import { corruptPngData, encodeInPage, heicHeader, withPngSize } from './support/images';
import { createSubject, dropFiles, openStudio, savedState, waitForIdle, type FileSpec } from './support/studio';

const errorNotices = (page: Page) => page.locator('[data-testid=notices] [data-tone=error]');

/** A subject "Rex" with `count` distinct photos already saved. */
async function subjectWithPhotos(page: Page, count: number): Promise<void> {
  await openStudio(page);
  await createSubject(page, { name: 'Rex', classNoun: 'dog' });
  const files: FileSpec[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = await encodeInPage(page, { width: 96, height: 96, type: 'image/png', bands: [`hsl(${i * 60} 80% 50%)`, '#fff'] });
    files.push({ name: `good-${i}.png`, type: 'image/png', bytes });
  }
  await dropFiles(page, files);
  await waitForIdle(page);
  await expect(page.getByTestId('photo-card')).toHaveCount(count);
}

/** Drops one file, expects exactly one new error notice matching `message`, and that nothing saved changed. */
async function expectRejected(page: Page, file: FileSpec, message: RegExp): Promise<void> {
  const before = await savedState(page);
  const aboutFile = errorNotices(page).filter({ hasText: file.name });
  await expect(aboutFile).toHaveCount(0);
  await dropFiles(page, [file]);
  await waitForIdle(page);
  await expect(aboutFile).toHaveCount(1);
  await expect(aboutFile).toContainText(message);
  expect(await savedState(page)).toEqual(before);
}

test('each kind of bad file gets its own message and changes nothing saved', async ({ page }) => {
  await subjectWithPhotos(page, 1);
  const png = await encodeInPage(page, { width: 100, height: 100, type: 'image/png', bands: ['#09c', '#c90'] });
  const cases: [FileSpec, RegExp][] = [
    [{ name: 'empty.jpg', type: 'image/jpeg', bytes: Buffer.alloc(0) }, /is empty \(0 bytes\)/],
    [{ name: 'notes.jpg', type: 'image/jpeg', bytes: Buffer.from('Shopping list:\n- dog food\n- leash\n'.repeat(4)) }, /is a text file/],
    [
      {
        name: 'logo.png',
        type: 'image/png',
        bytes: Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle r="40"/></svg>'),
      },
      /is an SVG drawing/,
    ],
    [{ name: 'IMG_0042.HEIC', type: 'image/heic', bytes: heicHeader() }, /is a HEIC\/HEIF photo.*Export it as JPEG/],
    [{ name: 'broken.png', type: 'image/png', bytes: corruptPngData(png) }, /is damaged: its PNG data could not be decoded/],
    [{ name: 'cut.png', type: 'image/png', bytes: png.subarray(0, 20) }, /is damaged: its PNG header is incomplete/],
    [{ name: 'bomb.png', type: 'image/png', bytes: withPngSize(png, 30000, 30000) }, /30000×30000 \(900\.0 megapixels\); the limit is 50\.0 megapixels/],
    [
      { name: 'tiny.png', type: 'image/png', bytes: await encodeInPage(page, { width: 48, height: 200, type: 'image/png', bands: ['#f0f'] }) },
      /is only 48×200; its shorter side must be at least 64 px/,
    ],
  ];
  for (const [file, message] of cases) await expectRejected(page, file, message);

  // The file already saved as good-0.png, under another name.
  const first = await page.getByTestId('photo-card').first().getAttribute('data-sha256');
  expect(first).toMatch(/^[0-9a-f]{64}$/);
  const again = await encodeInPage(page, { width: 96, height: 96, type: 'image/png', bands: ['hsl(0 80% 50%)', '#fff'] });
  await expectRejected(page, { name: 'copy-of-good.png', type: 'image/png', bytes: again }, /is the same file as good-0\.png/);

  await page.reload();
  await expect(page.getByTestId('photo-card')).toHaveCount(1);
});

test('a sixth photo is refused, and fewer than three photos cannot proceed', async ({ page }) => {
  await subjectWithPhotos(page, 2);
  await page.getByRole('button', { name: 'Continue to Class priors' }).click();
  await expect(errorNotices(page).last()).toContainText('Add 1 more photo: training needs at least 3 (this subject has 2).');
  await expect(page.getByTestId('step-subject')).toBeVisible();

  const more: FileSpec[] = [];
  for (let i = 0; i < 3; i++) {
    const bytes = await encodeInPage(page, { width: 90, height: 70, type: 'image/jpeg', bands: ['#000', `hsl(${i * 90} 90% 45%)`] });
    more.push({ name: `more-${i}.jpg`, type: 'image/jpeg', bytes });
  }
  await dropFiles(page, more);
  await waitForIdle(page);
  await expect(page.getByTestId('photo-card')).toHaveCount(5);

  const sixth = await encodeInPage(page, { width: 90, height: 90, type: 'image/png', bands: ['#abc'] });
  await expectRejected(page, { name: 'sixth.png', type: 'image/png', bytes: sixth }, /a subject holds at most 5 photos/);

  await page.getByRole('button', { name: 'Continue to Class priors' }).click();
  await expect(page.getByTestId('step-priors')).toBeVisible();
});

test('messages about a subject go when another one is active; success messages fade', async ({ page }) => {
  await subjectWithPhotos(page, 2);
  await page.getByRole('button', { name: 'Continue to Class priors' }).click();
  const notices = page.getByTestId('notices');
  await expect(notices).toContainText('Add 1 more photo: training needs at least 3 (this subject has 2).');

  await page.getByRole('button', { name: 'New subject' }).click();
  await createSubject(page, { name: 'Twelve', classNoun: 'cat' });
  await expect(notices).toContainText('Subject “Twelve” created.');
  await expect(notices).not.toContainText('Add 1 more photo');
  await expect(notices.locator('li')).toHaveCount(1);
  // A success needs no action: it goes by itself.
  await expect(notices.locator('li')).toHaveCount(0, { timeout: 15_000 });
});

test('invalid class noun or identifier is refused with a message on the field, nothing saved', async ({ page }) => {
  await openStudio(page);
  await createSubject(page, { name: 'First', classNoun: 'dog', identifier: 'zoqu' });
  await page.getByRole('button', { name: 'New subject' }).click();
  const before = await savedState(page);

  const form = page.getByRole('form', { name: 'New subject' });
  const attempts: [{ classNoun: string; identifier: string }, 'Class noun' | 'Identifier', RegExp][] = [
    [{ classNoun: '', identifier: 'vyxa' }, 'Class noun', /Class noun is empty/],
    [{ classNoun: 'dog2000!', identifier: 'vyxa' }, 'Class noun', /plain words of letters/],
    [{ classNoun: 'cat', identifier: '' }, 'Identifier', /Identifier is empty/],
    [{ classNoun: 'cat', identifier: 'my cat' }, 'Identifier', /3 to 12 lowercase letters/],
    [{ classNoun: 'cat', identifier: 'cat' }, 'Identifier', /must differ from the class noun/],
    [{ classNoun: 'cat', identifier: 'the' }, 'Identifier', /is a common word/],
    [{ classNoun: 'cat', identifier: 'zoqu' }, 'Identifier', /already belongs to another subject/],
  ];
  for (const [fields, label, message] of attempts) {
    await form.getByLabel('Name').fill('Second');
    await form.getByLabel('Class noun').fill(fields.classNoun);
    await form.getByLabel('Identifier').fill(fields.identifier);
    await form.getByRole('button', { name: 'Create subject' }).click();
    const input = form.getByLabel(label);
    await expect(input).toHaveAttribute('aria-invalid', 'true');
    await expect(input).toHaveAccessibleDescription(message);
    expect(await savedState(page)).toEqual(before);
  }
});

for (const how of ['throw', 'abort'] as const) {
  test(`full storage (put ${how}s) is reported with how to free space, and nothing partial is left`, async ({ page }) => {
    await subjectWithPhotos(page, 1);
    // Make IndexedDB refuse the next write the way a full disk does: the put throws, or (how Chromium
    // reports it) the put succeeds and the transaction then aborts with tx.error = QuotaExceededError.
    await page.evaluate((how) => {
      const put = IDBObjectStore.prototype.put;
      let calls = 0;
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof put>) {
        // Let the first blob through so a non-atomic write would leave it behind.
        if (++calls === 1) return put.apply(this, args);
        const quota = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        if (how === 'throw') throw quota;
        const request = put.apply(this, args);
        const tx = this.transaction;
        request.addEventListener('success', () => {
          if (tx.error) return;
          Object.defineProperty(tx, 'error', { value: quota });
          tx.abort();
        });
        return request;
      };
    }, how);
    const bytes = await encodeInPage(page, { width: 120, height: 120, type: 'image/png', bands: ['#5a5', '#a55'] });
    await expectRejected(
      page,
      { name: 'big.png', type: 'image/png', bytes },
      /big.png was not saved\. Browser storage is full.*Free space by deleting subjects/,
    );
    await page.reload();
    await expect(page.getByTestId('photo-card')).toHaveCount(1);
  });
}
