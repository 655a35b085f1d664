import { expect, test } from './support/fixtures';
import { field, galleryItems, generateAndWait } from './support/generate';
import { expectRunFinished, fillTrainSettings, makeClassImages, openStudio, openTrainSettings, stepsNav, waitForIdle } from './support/studio';

// The whole DreamBooth flow of e2e/train.spec.ts with the backend set to GPU, so every job runs on the WebGPU EP
// (SwiftShader here; the built-in model, the shipped code path): 4 photos → 4 class images → training steps on
// WebGPU → a checkpoint → reload → resume → a sample from the trained checkpoint. Steps are few: SwiftShader is slow
// (Playwright reported 6.1–6.4 min for this test on the 2-core machine).

test('on WebGPU: priors → train → reload → resume from the checkpoint → personalized sample', async ({ page }) => {
  test.setTimeout(900_000);
  await openStudio(page);
  await page.getByTestId('backend-setting').selectOption({ label: 'GPU' });
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-ep', 'webgpu');
  await page.getByRole('button', { name: 'Try the sample subject' }).click();
  await waitForIdle(page);
  await expect(page.getByTestId('photo-count')).toContainText('4');
  await page.getByRole('button', { name: 'Continue to Class priors' }).click();
  await makeClassImages(page, { count: 4, steps: 2, timeout: 300_000 });

  await openTrainSettings(page);
  await fillTrainSettings(page, { Steps: '4', 'Checkpoint every (steps)': '2', 'Preview samples every (steps)': '0', 'Sampling steps': '2' });
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-backend')).toHaveAttribute('data-ep', 'webgpu', { timeout: 300_000 });
  await expect(page.locator('[data-testid=checkpoint][data-step="2"]')).toBeVisible({ timeout: 600_000 });

  await page.reload();
  await stepsNav(page, 'Train');
  const resume = page.getByTestId('train-resume');
  await expect(resume).toBeVisible({ timeout: 30_000 });
  await resume.click();
  await expect(page.getByTestId('train-backend')).toHaveAttribute('data-ep', 'webgpu', { timeout: 300_000 });
  await expectRunFinished(page, 600_000);
  await expect(page.locator('[data-testid=checkpoint][data-step="4"]')).toBeVisible();

  await stepsNav(page, 'Generate');
  const picker = page.getByRole('combobox', { name: 'Model' });
  await picker.selectOption({ label: (await picker.locator('option', { hasText: 'step 4' }).textContent())! });
  await field(page, 'Steps').fill('2');
  await generateAndWait(page, 300_000);
  await expect(galleryItems(page).first()).toHaveAttribute('data-model-id', /^checkpoint:/);
  await expect(galleryItems(page).first()).toHaveAttribute('data-ep', 'webgpu');
});
