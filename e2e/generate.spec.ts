import { expect, test, type Page } from './support/fixtures';
import { strFromU8, unzipSync } from 'fflate';
import { readFile } from 'node:fs/promises';
import { parseInfotext } from '../src/export/infotext';
import { readPngParameters } from '../src/export/pngImage';
import { field, fill, form, galleryItems, generateAndWait, openGenerate, runPanel } from './support/generate';
import { dropFiles, savedState } from './support/studio';

// SwiftShader runs the UNet far slower than wasm, so Auto runs on the CPU (wasm) here; only the first test picks GPU
// in the header, to run on WebGPU and to see the setting change where the next run executes.

/** Time until the page paints its next frame: large when the main thread is blocked. */
const frameDelayMs = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const start = performance.now();
        requestAnimationFrame(() => resolve(performance.now() - start));
      }),
  );

interface ResultLine {
  custom_id: string;
  images: string[];
  seeds: number[];
  usage: { unet_evaluations: number; model_ms: number };
  backend: { ep: string; kind: string };
}

const galleryKeys = async (page: Page) => (await savedState(page)).keys.filter((k) => k.startsWith('gallery/'));

test('GPU chosen in the header runs on WebGPU with a live preview and keeps the image; Auto runs the next one on the CPU', async ({ page }) => {
  test.setTimeout(360_000);
  // The setting is chosen before the Generate step prepares the model, and survives a reload.
  await page.goto('/');
  await page.getByTestId('backend-setting').selectOption({ label: 'GPU' });
  await page.reload();
  await expect(page.getByTestId('backend-setting')).toHaveValue('webgpu');
  await openGenerate(page);
  await expect(page.getByTestId('generation-backend')).toHaveAttribute('data-ep', 'webgpu');

  // Guidance 1 runs the conditional pass only: one UNet evaluation per step keeps SwiftShader's share short.
  await fill(page, { prompt: 'a photo of a cat', sampler: 'Euler a', steps: 2, guidanceScale: 1, seed: 1234 });
  await form(page).getByRole('button', { name: 'Generate' }).click();
  await expect(runPanel(page)).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('preview').first()).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('run-stage')).toContainText(/step [12] of 2|Decoding/);
  const delays = [await frameDelayMs(page), await frameDelayMs(page), await frameDelayMs(page)];
  expect(Math.max(...delays)).toBeLessThan(1000); // the worker computes; the page keeps painting
  await expect(runPanel(page)).toHaveAttribute('data-state', 'ready', { timeout: 240_000 });

  // The built-in model ships pretrained weights: no untrained warning.
  await expect(page.getByTestId('untrained-label')).toHaveCount(0);
  // What really ran, as the worker established it from the sessions it used.
  const facts = page.getByTestId('run-facts');
  await expect(facts).toHaveAttribute('data-ep', 'webgpu');
  await expect(facts).toContainText(/WebGPU \(software: .*swiftshader/i);
  await expect(facts).toContainText('2 UNet evaluations');
  const size = await page.getByTestId('result-image').evaluate(async (img: HTMLImageElement) => {
    await img.decode();
    return [img.naturalWidth, img.naturalHeight];
  });
  expect(size).toEqual([64, 64]);

  await expect(galleryItems(page)).toHaveCount(1);
  await expect(galleryItems(page)).toHaveAttribute('data-seed', '1234');
  await expect(galleryItems(page)).toHaveAttribute('data-ep', 'webgpu');
  expect((await galleryKeys(page)).length).toBe(3); // index, item, image

  // Back to Auto: the model is prepared again on the CPU — Generate waits visibly meanwhile — and the next run goes there.
  await page.getByTestId('backend-setting').selectOption({ label: 'Auto' });
  await expect(page.getByTestId('generation-backend')).toHaveAttribute('data-ep', 'wasm', { timeout: 60_000 });
  await expect(page.getByTestId('generation-backend-why')).toContainText('software renderer, far slower than WebAssembly');
  await generateAndWait(page, 60_000);
  await expect(facts).toHaveAttribute('data-ep', 'wasm');
  await expect(galleryItems(page).first()).toHaveAttribute('data-ep', 'wasm');
});

test('Auto makes the first image in seconds on the CPU, with as many threads as the badge says', async ({ page }) => {
  await openGenerate(page);
  const label = (await page.getByTestId('backend-label').textContent())!;
  // Every core but one, which is left to the page (src/worker/backendProbe.ts says why).
  const threads = await page.evaluate(() => Math.max(1, navigator.hardwareConcurrency - 1));
  expect(label).toBe(`CPU (wasm, ${threads === 1 ? '1 thread' : `${threads} threads`})`);
  // The form's own defaults (20 steps, guided), as a newcomer would press Generate.
  const started = Date.now();
  await generateAndWait(page, 60_000);
  const seconds = (Date.now() - started) / 1000;
  console.log(`first image with Auto: ${seconds.toFixed(1)} s`);
  expect(seconds).toBeLessThan(60);
  const facts = page.getByTestId('run-facts');
  await expect(facts).toHaveAttribute('data-ep', 'wasm');
  expect(await facts.textContent()).toContain(label);
});

test('the form counts tokens and names the words cut, drops a stale seed error, and the viewer opens at the image', async ({ page }) => {
  await page.goto('/#generate');
  // The model is prepared on arrival: Generate waits visibly rather than queueing a run out of sight.
  await expect(form(page).getByRole('button', { name: 'Preparing the model…' })).toBeDisabled();
  await expect(page.getByTestId('generation-backend')).toBeVisible({ timeout: 90_000 });
  await expect(form(page).getByRole('button', { name: 'Generate', exact: true })).toBeEnabled();

  const tokens = form(page).getByTestId('token-count').first();
  await field(page, 'Prompt').fill('a photo of a cat');
  await expect(tokens).toHaveText('5 / 75 tokens');
  const long = `${Array.from({ length: 74 }, () => 'cat').join(' ')} on the red beach`;
  await field(page, 'Prompt').fill(long);
  await expect(tokens).toContainText('78 / 75 tokens');
  await expect(tokens.getByTestId('token-cut')).toHaveText('the red beach');

  await field(page, 'Seed number').fill('abc');
  await form(page).getByRole('button', { name: 'Generate', exact: true }).click();
  const seedError = form(page).locator('.field-error').filter({ hasText: /seed/i });
  await expect(seedError).toBeVisible();
  await form(page).getByLabel('Random each time').check();
  await expect(seedError).toHaveCount(0);
  await expect(field(page, 'Seed number')).not.toHaveAttribute('aria-invalid', 'true');

  // A long prompt fills the viewer's details: it still opens with the image in view.
  await fill(page, { prompt: Array.from({ length: 60 }, (_, i) => `word${i} and more words here`).join(', '), steps: 1, guidanceScale: 1, seed: 3 });
  await generateAndWait(page, 60_000);
  await page.setViewportSize({ width: 800, height: 500 });
  await galleryItems(page)
    .first()
    .getByRole('button', { name: /^View larger/ })
    .click();
  const viewer = page.getByTestId('gallery-viewer');
  await expect(viewer.getByRole('button', { name: 'Close' })).toBeFocused();
  const image = viewer.locator('.viewer-image');
  await expect(image).toBeInViewport({ ratio: 0.9 });
  expect(await viewer.evaluate((d) => d.scrollTop)).toBe(0);
});

test('the gallery survives a reload with every setting; a downloaded PNG carries them for other tools', async ({ page }) => {
  await openGenerate(page);
  await expect(page.getByTestId('generation-backend')).toHaveAttribute('data-ep', 'wasm');
  const settings = {
    prompt: 'a red mug, studio light',
    negativePrompt: 'blurry',
    sampler: 'DDIM',
    steps: 3,
    guidanceScale: 6.5,
    seed: 4242,
    numImages: 2,
  } as const;
  await fill(page, settings);
  await generateAndWait(page, 60_000);
  await expect(galleryItems(page)).toHaveCount(2);

  await page.reload();
  await expect(galleryItems(page)).toHaveCount(2);
  await expect(page.getByTestId('gallery-count')).toHaveText('2 images');
  expect(await galleryItems(page).evaluateAll((items) => items.map((i) => i.getAttribute('data-seed')))).toEqual(['4242', '4243']);

  await galleryItems(page)
    .first()
    .getByRole('button', { name: /^View larger/ })
    .click();
  const viewer = page.getByTestId('gallery-viewer');
  await expect(viewer).toBeVisible();
  await expect(viewer.getByTestId('param-prompt')).toHaveText(settings.prompt);
  await expect(viewer.getByTestId('param-negative')).toHaveText('blurry');
  await expect(viewer.getByTestId('param-sampler')).toHaveText('DDIM');
  await expect(viewer.getByTestId('param-steps')).toHaveText('3');
  await expect(viewer.getByTestId('param-guidance')).toHaveText('6.5');
  await expect(viewer.getByTestId('param-seed')).toHaveText('4242');
  await expect(viewer.getByTestId('param-backend')).toHaveAttribute('data-ep', 'wasm');

  const downloading = page.waitForEvent('download');
  await viewer.getByRole('button', { name: 'Download PNG' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('4242-a-red-mug-studio-light.png');
  const png = await readFile((await download.path())!);
  const parameters = readPngParameters(new Uint8Array(png));
  expect(parameters).toBeDefined();
  expect(parseInfotext(parameters!)).toMatchObject({
    prompt: settings.prompt,
    negativePrompt: 'blurry',
    sampler: 'DDIM',
    steps: 3,
    cfgScale: 6.5,
    seed: 4242,
    width: 64,
    height: 64,
  });

  // Re-run puts the image's settings back in the form, seed fixed, one image.
  await field(page, 'Prompt').fill('something else');
  await viewer.getByRole('button', { name: 'Re-run these settings' }).click();
  await expect(viewer).toBeHidden();
  await expect(field(page, 'Prompt')).toHaveValue(settings.prompt);
  await expect(field(page, 'Prompt')).toBeFocused();
  await expect(field(page, 'Negative prompt')).toHaveValue('blurry');
  await expect(form(page).getByLabel('Sampler')).toHaveValue('ddim');
  await expect(field(page, 'Steps')).toHaveValue('3');
  await expect(field(page, 'Guidance scale')).toHaveValue('6.5');
  await expect(field(page, 'Seed number')).toHaveValue('4242');
  await expect(field(page, 'Number of images')).toHaveValue('1');

  // Deleting one image removes its record and its PNG from storage (what a reload reads, as above).
  page.once('dialog', (dialog) => void dialog.accept());
  await galleryItems(page).last().getByRole('button', { name: 'Delete seed 4243' }).click();
  await expect(galleryItems(page)).toHaveCount(1);
  const keys = await galleryKeys(page);
  expect(keys.filter((k) => k.startsWith('gallery/item/'))).toHaveLength(1);
  expect(keys.filter((k) => k.startsWith('gallery/image/'))).toHaveLength(1);
});

test('bad settings are named and run nothing; cancel stops a run within a step, returns to ready and saves nothing', async ({ page }) => {
  await openGenerate(page);
  await fill(page, { prompt: 'a cat', steps: 0, guidanceScale: 101 });
  await form(page).getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByText('Steps must be from 1 to 1000; 0 is too small.')).toBeVisible();
  await expect(page.getByText('Guidance scale must be from 0 to 100; 101 is too large.')).toBeVisible();
  await expect(field(page, 'Steps')).toHaveAttribute('aria-invalid', 'true');
  await expect(runPanel(page)).toHaveAttribute('data-state', 'ready');

  await fill(page, { prompt: 'a long run', steps: 400, seed: 5 });
  await form(page).getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('run-stage')).toContainText(/step [2-9]\d* of 400/, { timeout: 60_000 });
  await expect(page.getByTestId('run-stage')).toContainText('left'); // the ETA
  await expect(form(page).getByRole('button', { name: 'Generating…' })).toBeDisabled();

  await runPanel(page).getByRole('button', { name: 'Cancel' }).click();
  await expect(runPanel(page)).toHaveAttribute('data-state', 'ready', { timeout: 10_000 });
  await expect(page.getByTestId('run-stopped')).toHaveText(/^Cancelled generating 1 image at step \d+ of 400; nothing was saved\.$/);
  await expect(galleryItems(page)).toHaveCount(0);
  expect(await galleryKeys(page)).toEqual([]);

  // The worker is free again at once: the next short run does not wait for the cancelled 400 steps.
  const started = Date.now();
  await fill(page, { prompt: 'a short run', steps: 1, guidanceScale: 1, seed: 6 });
  await generateAndWait(page, 30_000);
  expect(Date.now() - started).toBeLessThan(30_000);
  await expect(galleryItems(page)).toHaveCount(1);
  await expect(galleryItems(page)).toHaveAttribute('data-seed', '6');
});

test('a JSONL batch reports its bad line by number and field, runs the rest and exports one zip', async ({ page }) => {
  await openGenerate(page);
  const jsonl = [
    '{"custom_id": "cat-1", "prompt": "a photo of a cat", "steps": 2, "guidance_scale": 1, "seed": 11}',
    '{"custom_id": "dog-1", "prompt": "a photo of a dog", "steps": 0}',
    '{"custom_id": "mug-1", "prompt": "a mug", "steps": 1, "num_images": 2, "seed": 21, "sampler": "DDIM"}',
    '{"custom_id": "bad-json", "prompt": "x" "steps": 2}',
  ].join('\n');
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Import JSONL file…' }).click();
  await (await chooser).setFiles({ name: 'jobs.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(jsonl) });

  const invalid = page.getByTestId('batch-invalid');
  await expect(invalid).toContainText('line 2: /steps must be ≥ 1');
  // The browser's JSON error names "line 1 column 41" of the line alone: only the column is kept.
  await expect(invalid).toContainText("line 4: invalid JSON at column 41: Expected ',' or '}' after property value");
  await expect(invalid).not.toContainText('line 1');
  await expect(invalid.locator('li')).toHaveCount(2);
  await expect(invalid.locator('li').first()).toHaveAttribute('data-field', '/steps');
  await expect(page.getByTestId('batch')).toContainText('sampler: DDIM, Euler a, DPM++ 2M (or ddim, euler_a, dpmpp_2m; any case).');
  const lines = page.getByTestId('queue-line');
  await expect(lines).toHaveCount(2);
  await expect(page.getByTestId('queue-summary')).toContainText('2 requests — 0 done, 2 waiting');

  await page.getByRole('button', { name: 'Run 2 requests' }).click();
  await expect(lines.nth(0)).toHaveAttribute('data-status', /running|done/);
  await expect(lines.nth(1)).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(lines.nth(0)).toHaveAttribute('data-status', 'done');
  await expect(galleryItems(page)).toHaveCount(3);

  const downloading = page.waitForEvent('download');
  await page.getByTestId('batch-export').click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('jobs-results.zip');
  const archive = unzipSync(new Uint8Array(await readFile((await download.path())!)));
  expect(Object.keys(archive).sort()).toEqual(['images/cat-1-0.png', 'images/mug-1-0.png', 'images/mug-1-1.png', 'results.jsonl']);
  const results = strFromU8(archive['results.jsonl']!)
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as ResultLine);
  expect(results.map((r) => [r.custom_id, r.images, r.seeds])).toEqual([
    ['cat-1', ['images/cat-1-0.png'], [11]],
    ['mug-1', ['images/mug-1-0.png', 'images/mug-1-1.png'], [21, 22]],
  ]);
  // UNet evaluations: steps × images, doubled when guided (the form's 7.5 applies to mug-1, which sets none).
  expect(results.map((r) => r.usage.unet_evaluations)).toEqual([2 * 1 * 1, 1 * 2 * 2]);
  for (const r of results) expect(r.usage.model_ms).toBeGreaterThan(0);
  expect(results.map((r) => r.backend)).toEqual([
    { ep: 'wasm', kind: 'cpu' },
    { ep: 'wasm', kind: 'cpu' },
  ]);
  expect(parseInfotext(readPngParameters(archive['images/mug-1-1.png']!)!)).toMatchObject({ prompt: 'a mug', sampler: 'DDIM', steps: 1, seed: 22 });

  // A file dropped on the page is imported too; one with no valid line says so and runs nothing.
  await dropFiles(page, [{ name: 'broken.jsonl', type: 'application/jsonl', bytes: Buffer.from('{"custom_id": "x"}\n') }]);
  await expect(page.getByTestId('batch-message')).toHaveText('broken.jsonl has no request that can run; fix the lines listed below and import it again.');
  await expect(page.getByTestId('batch-invalid')).toContainText('line 1: /prompt is required');
  await expect(page.getByTestId('batch-invalid').locator('li')).toHaveAttribute('data-line', '1');
  await expect(page.getByTestId('queue-line')).toHaveCount(0);
  await expect(page).toHaveURL(/#generate$/); // a drop on this step is a batch, not photos for the Subject step
});
