import { expect, test } from './support/fixtures';
import { field, galleryItems, generateAndWait } from './support/generate';
import { fillTrainSettings, makeClassImages, openStudio, openTrainSettings, savedState, stepsNav, waitForIdle } from './support/studio';

// Personalizing an imported diffusers folder instead of the built-in model, on the real worker jobs and IndexedDB
// (wasm): import a folder on the Generate step → choose it as the subject's base model on Class priors → class images
// and training from it → a checkpoint that names it as its base → a sample from that checkpoint.

test('an imported diffusers folder as the base model: its class images, training, a checkpoint of it, a sample', async ({ page }) => {
  test.setTimeout(600_000);
  await openStudio(page);
  await stepsNav(page, 'Generate');
  await page.getByTestId('model-folder-input').setInputFiles('models/builtin');
  const picker = page.getByRole('combobox', { name: 'Model' });
  await expect(picker.locator('option', { hasText: '(imported)' })).toHaveCount(1, { timeout: 60_000 });
  const importedId = await picker.inputValue();
  expect(importedId).toMatch(/^imported:/);

  await stepsNav(page, 'Subject');
  await page.getByRole('button', { name: 'Try the sample subject' }).click();
  await waitForIdle(page);
  await page.getByRole('button', { name: 'Continue to Class priors' }).click();
  const base = page.getByTestId('priors-base-model');
  await expect(base).toHaveValue('builtin');
  await base.selectOption(importedId);
  await expect(base).toHaveValue(importedId);
  await makeClassImages(page, { count: 2, steps: 2, timeout: 240_000 });

  await openTrainSettings(page);
  await fillTrainSettings(page, { Steps: '2', 'Checkpoint every (steps)': '2', 'Preview samples every (steps)': '0', 'Sampling steps': '2' });
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-run')).toHaveAttribute('data-status', 'finished', { timeout: 300_000 });
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
  await expect(galleryItems(page).first()).toHaveAttribute('data-model-id', /^checkpoint:/);
});
