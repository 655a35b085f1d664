import { expect, test, type Page } from './support/fixtures';
import { encodeInPage } from './support/images';
import { openStudio, openTrainSettings, stepsNav, waitForIdle } from './support/studio';

// Class images are made by the real worker job on the CPU (wasm): 3 images of 2 steps keep it to seconds.

const grid = (page: Page) => page.getByTestId('prior-image');

async function sampleSubjectOnPriors(page: Page) {
  await openStudio(page);
  await page.getByRole('button', { name: 'Try the sample subject' }).click();
  await waitForIdle(page);
  await page.getByRole('button', { name: 'Continue to Class priors' }).click();
  await expect(page.getByTestId('priors-state')).toHaveAttribute('data-state', 'ready');
}

test('class images fill the grid as they are made; a dropped one stays dropped after a reload and a re-run that reuses them all', async ({ page }) => {
  test.setTimeout(300_000);
  await sampleSubjectOnPriors(page);
  const settings = page.getByRole('form', { name: 'Class image settings' });
  await settings.getByRole('textbox', { name: 'Number of class images' }).fill('3');
  await settings.getByRole('textbox', { name: 'Steps' }).fill('2');
  await page.getByTestId('priors-generate').click();
  await expect(page.getByTestId('priors-state')).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('priors-cancel')).toBeVisible();
  await expect(page.getByTestId('stepper-priors')).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('priors-state')).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  await expect(grid(page)).toHaveCount(3);
  await expect(page.getByTestId('priors-last-run')).toContainText('3 made, 0 reused');

  await page.getByRole('button', { name: 'Drop class image 2' }).click();
  await expect(grid(page).nth(1)).toHaveAttribute('data-dropped', 'true');
  await expect(page.getByTestId('priors-summary')).toHaveText('2 selected for training · 1 dropped');

  await page.reload();
  await expect(grid(page)).toHaveCount(3);
  await expect(grid(page).nth(1)).toHaveAttribute('data-dropped', 'true');
  await expect(page.getByRole('form', { name: 'Class image settings' }).getByRole('textbox', { name: 'Number of class images' })).toHaveValue('3');

  await page.getByTestId('priors-generate').click();
  await expect(page.getByTestId('priors-last-run')).toContainText('0 made, 3 reused', { timeout: 120_000 });
  await expect(grid(page).nth(1)).toHaveAttribute('data-dropped', 'true');
  await expect(page.locator('[data-testid=prior-image][data-reused=true]')).toHaveCount(3);

  // Own class photos join the selection; the Train step counts what is selected.
  const own = await encodeInPage(page, { width: 96, height: 96, type: 'image/png', bands: ['#345', '#a73'] });
  await page.getByTestId('priors-file-input').setInputFiles({ name: 'other-cat.png', mimeType: 'image/png', buffer: own });
  await expect(page.locator('[data-testid=prior-image][data-source=own]')).toHaveCount(1);
  await expect(page.getByTestId('priors-summary')).toHaveText('3 selected for training · 1 dropped · 1 your own');
  await stepsNav(page, 'Train');
  await expect(page.getByTestId('train-subject')).toContainText('3 class images');
  await expect(page.getByTestId('train-start')).toBeEnabled();
});

test('a bad training setting is named beside its field and keeps Start disabled until fixed', async ({ page }) => {
  await openStudio(page);
  await page.getByRole('button', { name: 'Try the sample subject' }).click();
  await waitForIdle(page);
  await openTrainSettings(page);
  await page.getByRole('textbox', { name: 'LoRA rank' }).fill('500');
  await expect(page.getByTestId('train-error-loraRank')).toHaveText('/loraRank must be ≤ 128');
  await expect(page.getByRole('textbox', { name: 'LoRA rank' })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('preset-custom')).toBeVisible();
  await expect(page.getByTestId('train-start')).toBeDisabled();
  await expect(page.getByTestId('train-why')).toHaveText('Fix the settings marked under Advanced settings first.');
  await page.getByRole('textbox', { name: 'LoRA rank' }).fill('4');
  await expect(page.getByTestId('train-error-loraRank')).toHaveCount(0);
  await expect(page.getByTestId('preset-quick').getByRole('radio')).toBeChecked();
  // Without class images the reason changes to that.
  await expect(page.getByTestId('train-why')).toHaveText('Make class images on step 2 first, or set the prior loss weight to 0 under Advanced settings.');
});
