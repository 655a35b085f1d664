import { expect, type Page } from './fixtures';

export interface Settings {
  prompt: string;
  negativePrompt?: string;
  sampler?: 'DDIM' | 'Euler a' | 'DPM++ 2M';
  steps: number;
  guidanceScale?: number;
  seed?: number;
  numImages?: number;
}

export const form = (page: Page) => page.getByRole('form', { name: 'Generate settings' });
export const field = (page: Page, name: string) => form(page).getByRole('textbox', { name, exact: true });
export const runPanel = (page: Page) => page.getByTestId('run-panel');
export const galleryItems = (page: Page) => page.getByTestId('gallery-item');

/** Opens the Generate step and waits until the model is prepared for this device. */
export async function openGenerate(page: Page, url = '/#generate') {
  await page.goto(url);
  await expect(page.getByRole('heading', { name: 'Generate', level: 2 })).toBeVisible();
  await expect(page.getByTestId('generation-backend')).toBeVisible({ timeout: 90_000 });
}

export async function fill(page: Page, s: Settings) {
  await field(page, 'Prompt').fill(s.prompt);
  await field(page, 'Negative prompt').fill(s.negativePrompt ?? '');
  if (s.sampler) await form(page).getByLabel('Sampler').selectOption({ label: s.sampler });
  await field(page, 'Steps').fill(String(s.steps));
  await field(page, 'Guidance scale').fill(String(s.guidanceScale ?? 7.5));
  await field(page, 'Number of images').fill(String(s.numImages ?? 1));
  if (s.seed !== undefined) await field(page, 'Seed number').fill(String(s.seed));
}

export async function generateAndWait(page: Page, timeout: number) {
  await form(page).getByRole('button', { name: 'Generate' }).click();
  await expect(runPanel(page)).toHaveAttribute('data-state', 'running');
  await expect(runPanel(page)).toHaveAttribute('data-state', 'ready', { timeout });
}
