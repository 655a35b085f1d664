import { expect, type Page } from '@playwright/test';

export interface FileSpec {
  name: string;
  type: string;
  bytes: Buffer;
}

/** Drops files on the page the way a desktop drag does: real DataTransfer and DragEvents built in the page. */
export async function dropFiles(page: Page, files: FileSpec[]): Promise<void> {
  await page.evaluate(
    (specs) => {
      const transfer = new DataTransfer();
      for (const spec of specs) {
        const bytes = Uint8Array.from(atob(spec.base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], spec.name, { type: spec.type }));
      }
      const target = document.querySelector('main') ?? document.body;
      for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }
    },
    files.map((f) => ({ name: f.name, type: f.type, base64: f.bytes.toString('base64') })),
  );
}

/** Opens the studio and waits until saved subjects are loaded. */
export async function openStudio(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Subject', level: 2 })).toBeVisible();
  await expect(page.locator('[data-testid=step-subject] form, [data-testid=photo-count]').first()).toBeVisible();
}

export async function createSubject(page: Page, fields: { name: string; classNoun: string; identifier?: string }) {
  const form = page.getByRole('form', { name: 'New subject' });
  await form.getByLabel('Name').fill(fields.name);
  await form.getByLabel('Class noun').fill(fields.classNoun);
  if (fields.identifier !== undefined) await form.getByLabel('Identifier').fill(fields.identifier);
  await form.getByRole('button', { name: 'Create subject' }).click();
}

/** Waits until no photo is being prepared. */
export async function waitForIdle(page: Page): Promise<void> {
  await expect(page.getByText(/^Preparing /)).toHaveCount(0);
}

export interface SavedState {
  keys: string[];
  records: Record<string, unknown>;
}

/** Everything the studio has saved, read straight from IndexedDB (blobs summarised by size). */
export async function savedState(page: Page): Promise<SavedState> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('dreambooth-studio');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    if (!db.objectStoreNames.contains('records')) return { keys: [], records: {} };
    const store = db.transaction('records').objectStore('records');
    const [keys, values] = await Promise.all(
      [store.getAllKeys(), store.getAll()].map((request) => new Promise<unknown[]>((resolve) => (request.onsuccess = () => resolve(request.result)))),
    );
    db.close();
    const records: Record<string, unknown> = {};
    keys!.forEach((key, i) => {
      const value = values![i];
      records[String(key)] = value instanceof Blob ? { blobBytes: value.size } : value;
    });
    return { keys: keys!.map(String).sort(), records };
  });
}

/** Goes to a step of the studio by its navigation button ('Subject', 'Class priors', 'Train', 'Generate'). */
export const stepsNav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Steps' }).getByRole('button', { name }).click();

/** A text field under the Train step's Advanced settings, by its label. */
export const trainSetting = (page: Page, name: string) => page.getByTestId('train-advanced').getByRole('textbox', { name, exact: true });

/** Fills Advanced settings by label (after openTrainSettings), in order. */
export async function fillTrainSettings(page: Page, values: Readonly<Record<string, string>>): Promise<void> {
  for (const [name, value] of Object.entries(values)) await trainSetting(page, name).fill(value);
}

/** On the Class priors step: `count` class images of `steps` sampler steps, waiting until all are shown. */
export async function makeClassImages(page: Page, o: { count: number; steps: number; timeout: number }): Promise<void> {
  const priors = page.getByRole('form', { name: 'Class image settings' });
  await priors.getByRole('textbox', { name: 'Number of class images' }).fill(String(o.count));
  await priors.getByRole('textbox', { name: 'Steps' }).fill(String(o.steps));
  await page.getByTestId('priors-generate').click();
  await expect(page.getByTestId('priors-state')).toHaveAttribute('data-state', 'done', { timeout: o.timeout });
  await expect(page.getByTestId('prior-image')).toHaveCount(o.count);
}

/** The Train step with a preset chosen and its Advanced settings open. */
export async function openTrainSettings(page: Page, preset: 'quick' | 'object' | 'pet' = 'quick'): Promise<void> {
  await stepsNav(page, 'Train');
  await page.getByTestId(`preset-${preset}`).click();
  await page.getByTestId('train-advanced').locator('summary').click();
}

/** Waits until the training run ends and expects it finished; a failed run fails the test with the studio's message. */
export async function expectRunFinished(page: Page, timeout: number): Promise<void> {
  const run = page.getByTestId('train-run');
  await expect(run).toHaveAttribute('data-status', /^(finished|failed)$/, { timeout });
  const failure = (await page.getByTestId('train-failure').allInnerTexts()).join(' ');
  expect(await run.getAttribute('data-status'), failure).toBe('finished');
}
