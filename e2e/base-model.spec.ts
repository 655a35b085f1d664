import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './support/fixtures';
import { field, galleryItems, generateAndWait } from './support/generate';
import { encodeInPage } from './support/images';
import {
  createSubject,
  dropFiles,
  expectRunFinished,
  fillTrainSettings,
  makeClassImages,
  openStudio,
  openTrainSettings,
  savedState,
  stepsNav,
  waitForIdle,
} from './support/studio';

// Personalizing an imported diffusers folder instead of the built-in model, on the real worker jobs and IndexedDB
// (wasm): import a folder on the Generate step → choose it as the subject's base model on Class priors → class images
// and training from it → a checkpoint that names it as its base → a sample from that checkpoint. The folder is the
// built-in model making 128-px images, twice the size photos are cropped at when added, so training crops the
// stored originals again at its size (the worker's cropPhoto), and a class photo of your own is cropped at it.

test('an imported diffusers folder as the base model: its class images, training, a checkpoint of it, a sample', async ({ page }) => {
  test.setTimeout(600_000);
  const folder = test.info().outputPath('builtin-128px');
  cpSync('models/builtin', folder, { recursive: true });
  const unetConfig = join(folder, 'unet/config.json');
  const config = JSON.parse(readFileSync(unetConfig, 'utf8')) as { sample_size: number };
  writeFileSync(unetConfig, JSON.stringify({ ...config, sample_size: 2 * config.sample_size }));

  await openStudio(page);
  await stepsNav(page, 'Generate');
  await page.getByTestId('model-folder-input').setInputFiles(folder);
  const picker = page.getByRole('combobox', { name: 'Model' });
  await expect(picker.locator('option', { hasText: '(imported)' })).toHaveCount(1, { timeout: 60_000 });
  const importedId = await picker.inputValue();
  expect(importedId).toMatch(/^imported:/);

  await stepsNav(page, 'Subject');
  await createSubject(page, { name: 'Kite', classNoun: 'kite' });
  const colours = ['#c33', '#3c3', '#33c', '#cc3', '#3cc', '#c3c'];
  const photos = [];
  for (let i = 0; i < 4; i++) {
    const bands = [colours[i]!, colours[i + 1]!, colours[i + 2]!];
    photos.push({ name: `kite-${i}.jpg`, type: 'image/jpeg', bytes: await encodeInPage(page, { width: 200, height: 160, type: 'image/jpeg', bands }) });
  }
  await dropFiles(page, photos);
  await waitForIdle(page);
  await expect(page.getByTestId('photo-count')).toHaveText(/^4 of/);
  await page.getByRole('button', { name: 'Continue to Class priors' }).click();
  const base = page.getByTestId('priors-base-model');
  await expect(base).toHaveValue('builtin');
  await base.selectOption(importedId);
  await expect(base).toHaveValue(importedId);
  await makeClassImages(page, { count: 2, steps: 2, timeout: 240_000 });
  // A class photo of your own is cropped at the base model's 128 px too: training would refuse a 64-px one.
  const own = await encodeInPage(page, { width: 200, height: 160, type: 'image/png', bands: ['#345', '#a73'] });
  await page.getByTestId('priors-file-input').setInputFiles({ name: 'other-kite.png', mimeType: 'image/png', buffer: own });
  await expect(page.locator('[data-testid=prior-image][data-source=own]')).toHaveCount(1);

  await openTrainSettings(page);
  await fillTrainSettings(page, { Steps: '2', 'Checkpoint every (steps)': '2', 'Preview samples every (steps)': '0', 'Sampling steps': '2' });
  await page.getByTestId('train-start').click();
  await expectRunFinished(page, 300_000);
  await expect(page.locator('[data-testid=checkpoint][data-step="2"]')).toBeVisible();
  // The checkpoint records the imported model as its base: Generate resolves it through that model.
  const saved = await savedState(page);
  const pointer = Object.entries(saved.records).find(([key]) => key.startsWith('training/'))?.[1] as { checkpoints: { info: { baseModelId: string } }[] };
  expect(pointer.checkpoints.map((c) => c.info.baseModelId)).toEqual([importedId]);
  // The choice is the subject's: a reload finds it.
  await page.reload();
  await stepsNav(page, 'Class priors');
  await expect(page.getByTestId('priors-base-model')).toHaveValue(importedId);

  await stepsNav(page, 'Generate');
  await picker.selectOption({ label: (await picker.locator('option', { hasText: 'step 2' }).textContent())! });
  await field(page, 'Steps').fill('2');
  await generateAndWait(page, 240_000);
  const sample = galleryItems(page).first();
  await expect(sample).toHaveAttribute('data-model-id', /^checkpoint:/);
  expect(await sample.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(128);
});
