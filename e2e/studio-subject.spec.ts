import { expect, test } from './support/fixtures';
import { animatedGif, encodeInPage, withExifOrientation } from './support/images';
import { createSubject, dropFiles, openStudio, savedState, waitForIdle, type SavedState } from './support/studio';

interface StoredPhoto {
  sha256: string;
  cropSha256: string;
  thumbnailSha256: string;
}

const photoHashes = (state: SavedState) =>
  Object.entries(state.records)
    .filter(([key]) => key.startsWith('subject/'))
    .flatMap(([, subject]) => (subject as { photos: StoredPhoto[] }).photos)
    .flatMap((p) => [p.sha256, p.cropSha256, p.thumbnailSha256]);
/** Blob keys the subjects refer to (each content stored once). */
const referencedBlobs = (state: SavedState) => [...new Set(photoHashes(state))].map((h) => `blob/${h}`).sort();
/** References that point at content another reference already has, e.g. a thumbnail identical to its PNG. */
const duplicateReferences = (state: SavedState) => photoHashes(state).length - new Set(photoHashes(state)).size;
const storedBlobs = (state: SavedState) => state.keys.filter((k) => k.startsWith('blob/'));

const photoCards = (page: import('./support/fixtures').Page) => page.getByTestId('photo-card');

test('dropped photos are cropped, saved, and restored after a reload', async ({ page }) => {
  await openStudio(page);
  await createSubject(page, { name: 'Rex', classNoun: 'dog' });
  await expect(page.getByTestId('photo-count')).toHaveText('0 of 3–5');

  const colours = [
    ['#c00', '#0c0'],
    ['#00c', '#cc0'],
    ['#0cc', '#c0c'],
    ['#444', '#eee'],
  ];
  const files = [];
  for (const [i, bands] of colours.entries()) {
    const type = i % 2 === 0 ? 'image/png' : 'image/jpeg';
    const bytes = await encodeInPage(page, { width: 160 + i * 20, height: 120, type, bands });
    files.push({ name: `rex-${i}.${type === 'image/png' ? 'png' : 'jpg'}`, type, bytes });
  }
  await dropFiles(page, files);
  await waitForIdle(page);
  await expect(photoCards(page)).toHaveCount(4);
  await expect(page.getByText('Added 4 photos')).toBeVisible();

  const hashesBefore = await photoCards(page).evaluateAll((cards) => cards.map((c) => c.getAttribute('data-sha256')));
  const saved = await savedState(page);
  expect(referencedBlobs(saved)).toHaveLength(4 * 3 - duplicateReferences(saved));
  expect(storedBlobs(saved)).toEqual(referencedBlobs(saved));

  await page.reload();
  await expect(photoCards(page)).toHaveCount(4);
  const hashesAfter = await photoCards(page).evaluateAll((cards) => cards.map((c) => c.getAttribute('data-sha256')));
  expect(hashesAfter).toEqual(hashesBefore);
  await expect(page.getByRole('radio', { name: /Rex/ })).toBeChecked();

  // Each crop is the model's 64×64 square, decoded from what was stored.
  const cropSizes = await page.getByTestId('photo-crop').evaluateAll(async (images) =>
    Promise.all(
      (images as HTMLImageElement[]).map(async (img) => {
        await img.decode();
        return [img.naturalWidth, img.naturalHeight];
      }),
    ),
  );
  expect(cropSizes).toEqual([
    [64, 64],
    [64, 64],
    [64, 64],
    [64, 64],
  ]);

  // Removing a photo deletes its blobs too (no orphans), and that survives a reload.
  await page.getByRole('button', { name: 'Remove rex-1.jpg' }).click();
  await expect(photoCards(page)).toHaveCount(3);
  await page.reload();
  await expect(photoCards(page)).toHaveCount(3);
  const afterRemoval = await savedState(page);
  expect(storedBlobs(afterRemoval)).toEqual(referencedBlobs(afterRemoval));
  expect(storedBlobs(afterRemoval).length).toBeLessThan(storedBlobs(saved).length);
  expect(storedBlobs(afterRemoval)).not.toContain(`blob/${hashesBefore[1]}`);
});

test('EXIF orientation is applied before cropping', async ({ page }) => {
  await openStudio(page);
  await createSubject(page, { name: 'Mug', classNoun: 'mug' });

  // Stored 96×64: red left half, blue right half. Orientation 6 displays it rotated 90° clockwise,
  // so the photo a person sees is 64×96 with red on top.
  const stored = await encodeInPage(page, { width: 96, height: 64, type: 'image/jpeg', bands: ['#f00', '#00f'] });
  const rotated = withExifOrientation(stored, 6);
  await dropFiles(page, [
    { name: 'rotated.jpg', type: 'image/jpeg', bytes: rotated },
    { name: 'upright.jpg', type: 'image/jpeg', bytes: stored },
  ]);
  await waitForIdle(page);
  await expect(photoCards(page)).toHaveCount(2);
  await expect(page.getByTestId('photo-dimensions')).toHaveText(['64×96', '96×64']);

  const cropPixels = await page.getByTestId('photo-crop').evaluateAll(async (images) =>
    Promise.all(
      (images as HTMLImageElement[]).map(async (img) => {
        await img.decode();
        const canvas = new OffscreenCanvas(64, 64);
        const context = canvas.getContext('2d')!;
        context.drawImage(img, 0, 0);
        const at = (x: number, y: number) => Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3));
        return { topRight: at(56, 8), bottomLeft: at(8, 56) };
      }),
    ),
  );
  const isRed = ([r, g, b]: number[]) => r! > 180 && g! < 80 && b! < 80;
  const isBlue = ([r, g, b]: number[]) => b! > 180 && r! < 80 && g! < 80;
  // Rotated: red above blue.
  expect(isRed(cropPixels[0]!.topRight)).toBe(true);
  expect(isBlue(cropPixels[0]!.bottomLeft)).toBe(true);
  // The same pixels without the EXIF tag: red left of blue.
  expect(isBlue(cropPixels[1]!.topRight)).toBe(true);
  expect(isRed(cropPixels[1]!.bottomLeft)).toBe(true);
});

test('the sample subject loads its four photos; the next steps say what they need and keep it after a reload', async ({ page }) => {
  await openStudio(page);
  await page.getByRole('button', { name: 'Try the sample subject' }).click();
  await waitForIdle(page);
  await expect(photoCards(page)).toHaveCount(4);
  await expect(page.getByRole('radio', { name: /Emoji cat \(sample\)/ })).toBeChecked();
  await expect(page.getByTestId('stepper-subject')).toHaveAttribute('data-state', 'done');

  await page.getByRole('button', { name: 'Continue to Class priors' }).click();
  await expect(page).toHaveURL(/#priors$/);
  const priors = page.getByTestId('step-priors');
  await expect(priors.getByRole('heading', { name: 'Class priors', level: 2 })).toBeVisible();
  await expect(page.getByTestId('priors-state')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('priors-class')).toContainText('a photo of cat');
  await expect(page.getByTestId('priors-empty')).toBeVisible();
  await expect(priors.getByRole('textbox', { name: 'Number of class images' })).toHaveValue('100'); // the default preset's class images
  await expect(page.getByTestId('priors-generate')).toBeEnabled();

  await page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name: 'Train' }).click();
  await expect(page.getByRole('heading', { name: 'Train', level: 2 })).toBeVisible();
  await expect(page.getByTestId('train-state')).toHaveAttribute('data-state', 'empty');
  await expect(page.getByTestId('train-start')).toBeDisabled();
  await expect(page.getByTestId('train-why')).toHaveText('Make class images on step 2 first, or set the prior loss weight to 0 under Advanced settings.');
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Train', level: 2 })).toBeVisible();
  await expect(page.getByTestId('train-why')).toBeVisible();
});

test('photos can be added with the keyboard through the file picker', async ({ page }) => {
  await openStudio(page);
  await createSubject(page, { name: 'Plush', classNoun: 'plush toy' });
  const bytes = await encodeInPage(page, { width: 80, height: 80, type: 'image/png', bands: ['#123', '#fa0'] });
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Choose photos…' }).focus();
  await page.keyboard.press('Enter');
  await (await chooser).setFiles({ name: 'plush.png', mimeType: 'image/png', buffer: bytes });
  await waitForIdle(page);
  await expect(photoCards(page)).toHaveCount(1);
});

test('a photo with transparency and an animated GIF each say on their card what the model gets', async ({ page }) => {
  await openStudio(page);
  await createSubject(page, { name: 'Mug', classNoun: 'mug' });
  const cutOut = await encodeInPage(page, { width: 96, height: 96, type: 'image/png', bands: ['rgba(0,0,0,0)', '#c33', 'rgba(0,0,0,0)'] });
  const opaque = await encodeInPage(page, { width: 96, height: 96, type: 'image/png', bands: ['#3c3'] });
  await dropFiles(page, [
    { name: 'cut-out.png', type: 'image/png', bytes: cutOut },
    { name: 'spin.gif', type: 'image/gif', bytes: animatedGif(80, 80, 3) },
    { name: 'opaque.png', type: 'image/png', bytes: opaque },
  ]);
  await waitForIdle(page);
  await expect(photoCards(page)).toHaveCount(3);
  const note = (name: string) => photoCards(page).filter({ hasText: name }).getByTestId('photo-note');
  await expect(note('cut-out.png')).toHaveText('Transparent parts are filled with white, as the model sees them.');
  await expect(note('spin.gif')).toHaveText('Animated: only the first frame is used.');
  await expect(note('opaque.png')).toHaveCount(0);
  // The first frame (black) is the one cropped.
  const centre = await photoCards(page)
    .filter({ hasText: 'spin.gif' })
    .getByTestId('photo-crop')
    .evaluate(async (img: HTMLImageElement) => {
      await img.decode();
      const canvas = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
      const context = canvas.getContext('2d')!;
      context.drawImage(img, 0, 0);
      return Array.from(context.getImageData(img.naturalWidth / 2, img.naturalHeight / 2, 1, 1).data);
    });
  expect(centre).toEqual([0, 0, 0, 255]);
  await page.reload();
  await expect(note('spin.gif')).toHaveText('Animated: only the first frame is used.');
});
