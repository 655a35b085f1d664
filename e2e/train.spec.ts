import { expect, test } from './support/fixtures';
import { field, galleryItems, generateAndWait } from './support/generate';
import { expectRunFinished, fillTrainSettings, makeClassImages, openStudio, openTrainSettings, stepsNav, waitForIdle } from './support/studio';

// The whole DreamBooth flow as a person runs it, on the real worker jobs and IndexedDB, on the CPU (Auto picks wasm
// over SwiftShader; the same flow on WebGPU is e2e/train-webgpu.spec.ts): sample subject → 2 class images →
// 4 training steps with checkpoints every 2 and previews → reload mid-run → resume → a sample from the checkpoint.

test('priors → train with loss chart and previews → reload mid-run → resume from the checkpoint → personalized sample', async ({ page }) => {
  test.setTimeout(600_000);
  await openStudio(page);
  await page.getByRole('button', { name: 'Try the sample subject' }).click();
  await waitForIdle(page);
  await page.getByRole('button', { name: 'Continue to Class priors' }).click();
  await makeClassImages(page, { count: 2, steps: 2, timeout: 240_000 });

  await openTrainSettings(page);
  await fillTrainSettings(page, { Steps: '6', 'Checkpoint every (steps)': '2', 'Preview samples every (steps)': '2', 'Sampling steps': '2' });
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-run')).toHaveAttribute('data-status', /running/);
  await expect(page.getByTestId('train-backend')).toHaveAttribute('data-ep', 'wasm', { timeout: 120_000 });
  // The first checkpoint (step 2) and its preview row beside the base model's.
  await expect(page.locator('[data-testid=checkpoint][data-step="2"]')).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('validation-row').first()).toBeVisible();
  await expect(page.getByTestId('loss-chart')).not.toHaveAttribute('data-points', '0');

  // Closing the tab mid-run (the worker dies with it) loses at most the steps since the last checkpoint.
  await page.reload();
  await stepsNav(page, 'Train');
  const resume = page.getByTestId('train-resume');
  await expect(resume).toBeVisible({ timeout: 30_000 });
  const resumedFrom = Number((await resume.textContent())!.match(/step (\d+)/)![1]);
  expect(resumedFrom).toBeGreaterThanOrEqual(2);
  // The run as its newest checkpoint saved it: the loss curve up to there and the preview rows.
  await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-points', String(resumedFrom));
  await expect(page.getByTestId('validation-row').first()).toBeVisible();
  await resume.click();
  await expectRunFinished(page, 300_000);
  await expect(page.locator('[data-testid=checkpoint][data-step="6"]')).toBeVisible();
  await expect(page.getByTestId('loss-chart')).toHaveAttribute('data-points', '6');
  await expect(page.getByTestId('stepper-train')).toHaveAttribute('data-state', 'done');

  // Generate from the trained checkpoint, opened from its row: the picker shows it, the prompt names the identifier, the
  // gallery names the checkpoint.
  await page
    .locator('[data-testid=checkpoint][data-step="6"]')
    .getByRole('button', { name: /^Generate with it/ })
    .click();
  await expect(page.getByRole('heading', { name: 'Generate', level: 2 })).toBeVisible();
  const picker = page.getByRole('combobox', { name: 'Model' });
  await expect(picker.locator('option:checked')).toHaveText(/step 6$/);
  await expect(field(page, 'Prompt')).toHaveValue(/^a photo of \S+ cat/);
  await field(page, 'Steps').fill('2');
  await generateAndWait(page, 240_000);
  await expect(galleryItems(page).first()).toHaveAttribute('data-model-id', /^checkpoint:/);
});
