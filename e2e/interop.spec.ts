import { readFileSync } from 'node:fs';
import { writeSafetensors } from '../src/model/safetensors';
import { expect, test, type Page } from './support/fixtures';
import { field, form, generateAndWait, runPanel } from './support/generate';
import { storeLoraCheckpoint } from './support/checkpoint';
import { dropFiles, openStudio, savedState, stepsNav, waitForIdle } from './support/studio';

// Export and import as a person does them, on the real worker jobs and IndexedDB: a LoRA checkpoint of the sample
// subject (stored as the trainer stores one, see support/checkpoint.ts), its LoRA exported from the Train step's
// checkpoint list, imported back through the picker's file button, sampled at the seed the checkpoint was sampled at —
// the same pixels — and a hostile LoRA dropped on the Generate step, refused with its key and reason, nothing stored.

const picker = (page: Page) => page.getByRole('combobox', { name: 'Model' });

/** The RGBA pixels of the run panel's result image, decoded by the browser. */
async function resultPixels(page: Page): Promise<number[]> {
  return runPanel(page)
    .getByTestId('result-image')
    .evaluate(async (img: HTMLImageElement) => {
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext('2d')!;
      context.drawImage(img, 0, 0);
      return [...context.getImageData(0, 0, canvas.width, canvas.height).data];
    });
}

/** One image at seed 1234; one step without guidance keeps it cheap on a busy CPU and still runs the whole UNet. */
async function sample(page: Page): Promise<number[]> {
  await field(page, 'Steps').fill('1');
  await field(page, 'Guidance scale').fill('1');
  await form(page).getByRole('textbox', { name: 'Seed number' }).fill('1234');
  await generateAndWait(page, 240_000);
  return resultPixels(page);
}

test('export a checkpoint’s LoRA, import it back, sample the same image; a hostile LoRA is refused and nothing is stored', async ({ page }) => {
  // About a minute on an idle machine; several under the load other checkouts put on a shared one.
  test.setTimeout(600_000);
  await openStudio(page);
  await page.getByRole('button', { name: 'Try the sample subject' }).click();
  type StoredSubject = { id: string; identifier: string; classNoun: string; photos: unknown[] };
  const storedSubject = async () =>
    Object.entries((await savedState(page)).records).find(([key]) => key.startsWith('subject/'))?.[1] as StoredSubject | undefined;
  // The sample subject is saved once its photos are prepared.
  await expect.poll(async () => (await storedSubject())?.photos.length ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
  await waitForIdle(page);
  const subject = (await storedSubject())!;
  await storeLoraCheckpoint(page, subject, 2);
  await page.reload();

  await stepsNav(page, 'Train');
  const checkpoint = page.locator('[data-testid=checkpoint][data-step="2"]');
  await expect(checkpoint).toBeVisible({ timeout: 30_000 });

  // A LoRA without a trained embedding is one .safetensors named for the subject, identifier and step.
  const downloading = page.waitForEvent('download');
  await checkpoint.getByTestId('export-lora-peft').click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(new RegExp(`-${subject.identifier}-step2-lora\\.safetensors$`));
  const exported = readFileSync((await download.path())!);

  await stepsNav(page, 'Generate');
  const trained = picker(page).locator('option', { hasText: 'step 2' });
  await expect(trained).toHaveCount(1);
  await picker(page).selectOption({ label: (await trained.textContent())! });
  const instancePrompt = `a photo of ${subject.identifier} ${subject.classNoun}`;
  await expect(field(page, 'Prompt')).toHaveValue(instancePrompt);
  const fromCheckpoint = await sample(page);

  // Imported back, it is chosen at once with the same instance prompt, and samples the same picture.
  await page.getByTestId('model-file-input').setInputFiles({ name: download.suggestedFilename(), mimeType: 'application/octet-stream', buffer: exported });
  await expect(picker(page).locator('option', { hasText: '(imported)' })).toHaveCount(1, { timeout: 60_000 });
  await expect(picker(page)).toHaveValue(/^imported:/);
  await expect(field(page, 'Prompt')).toHaveValue(instancePrompt);
  const fromImport = await sample(page);
  expect(fromImport.length).toBe(fromCheckpoint.length);
  expect(Math.max(...fromImport.map((v, i) => Math.abs(v - fromCheckpoint[i]!)))).toBeLessThanOrEqual(1);

  // A LoRA with a key no module of the base model has: refused naming it, and nothing changes.
  const before = await savedState(page);
  const optionsBefore = await picker(page).locator('option').allTextContents();
  const hostile = Buffer.from(writeSafetensors(new Map([['lora_unet_no_such_block.lora_down.weight', { shape: [2, 8], data: new Float32Array(16) }]])));
  await dropFiles(page, [{ name: 'hostile.safetensors', type: 'application/octet-stream', bytes: hostile }]);
  await expect(page.getByTestId('import-error')).toContainText('lora_unet_no_such_block.lora_down.weight: ');
  expect(await picker(page).locator('option').allTextContents()).toEqual(optionsBefore);
  expect((await savedState(page)).keys).toEqual(before.keys);
});
