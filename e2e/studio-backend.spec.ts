import { expect, test } from './support/fixtures';
import { openStudio } from './support/studio';

const threadsText = (n: number) => (n === 1 ? '1 thread' : `${n} threads`);

test('with only a software adapter, Auto runs on the CPU with every core but one and says why', async ({ page }) => {
  await openStudio(page);
  const badge = page.getByTestId('backend-badge');
  // Headless Chromium with --enable-unsafe-webgpu has SwiftShader: a real adapter, in software.
  await expect(badge).toHaveAttribute('data-backend', 'webgpu-software');
  await expect(page.getByTestId('backend-setting')).toHaveValue('auto');
  await expect(badge).toHaveAttribute('data-ep', 'wasm');
  const threads = await page.evaluate(() => (crossOriginIsolated ? Math.max(1, navigator.hardwareConcurrency - 1) : 1));
  await expect(page.getByTestId('backend-label')).toHaveText(`CPU (wasm, ${threadsText(threads)})`);
  await badge.locator('summary').click();
  await expect(page.getByTestId('backend-why')).toContainText('Auto chose the CPU because the only WebGPU adapter');
  await expect(page.getByTestId('backend-why')).toContainText('is a software renderer, far slower than WebAssembly');
  await expect(page.getByTestId('adapter-architecture')).not.toHaveText(/^(—|)$/);
  const reported = `${await page.getByTestId('adapter-architecture').textContent()} ${await page.getByTestId('adapter-description').textContent()}`;
  expect(reported.toLowerCase()).toContain('swiftshader');

  // The page itself sees the same adapter: the worker's report is not a guess.
  const pageAdapter = await page.evaluate(async () => {
    const adapter = await navigator.gpu?.requestAdapter();
    return adapter ? adapter.info.architecture : null;
  });
  expect(pageAdapter).not.toBeNull();
  await expect(page.getByTestId('adapter-architecture')).toHaveText(pageAdapter!);
});

test('without WebGPU the badge says CPU and why', async ({ page }) => {
  // Workers have their own navigator: hide WebGPU from the studio worker by prefixing its script.
  await page.route('**/assets/studio.worker-*.js', async (route) => {
    const response = await route.fetch();
    const body = await response.text();
    await route.fulfill({
      response,
      body: `Object.defineProperty(WorkerNavigator.prototype, 'gpu', { get: () => undefined });\n${body}`,
    });
  });
  await openStudio(page);
  await expect(page.getByTestId('backend-label')).toHaveText(/^CPU \(wasm, \d+ threads?\)$/);
  await page.getByTestId('backend-badge').locator('summary').click();
  await expect(page.getByTestId('backend-why')).toHaveText(
    'Auto chose the CPU because this browser has no WebGPU, or it is turned off (navigator.gpu missing).',
  );
  // GPU cannot be picked where there is none, and the menu says so.
  await expect(page.getByTestId('backend-setting').locator('option[value=webgpu]')).toBeDisabled();
  await expect(page.getByTestId('backend-setting').locator('option[value=webgpu]')).toHaveText('GPU (unavailable here)');
});

test('the backend setting persists across a reload and the badge follows it', async ({ page }) => {
  await openStudio(page);
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-ep', 'wasm');
  await page.getByTestId('backend-setting').selectOption({ label: 'GPU' });
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-ep', 'webgpu');
  await expect(page.getByTestId('backend-label')).toHaveText('WebGPU (software)');
  await page.reload();
  await expect(page.getByTestId('backend-setting')).toHaveValue('webgpu');
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-ep', 'webgpu');
  await page.getByTestId('backend-badge').locator('summary').click();
  await expect(page.getByTestId('backend-why')).toContainText('Runs on WebGPU because you chose GPU, and the only one here is a software renderer');
  await page.getByTestId('backend-setting').selectOption({ label: 'CPU' });
  await page.reload();
  await expect(page.getByTestId('backend-setting')).toHaveValue('wasm');
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-ep', 'wasm');
});

test('the stepper tabs and the submit button have distinct names', async ({ page }) => {
  await openStudio(page);
  await page.getByRole('button', { name: 'Step 4: Generate' }).click();
  await expect(page.getByRole('heading', { name: 'Generate', level: 2 })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toHaveAttribute('type', 'submit');
});

test.describe('installed app', () => {
  test.use({ serviceWorkers: 'allow' });

  test('the service worker serves the app shell, cross-origin isolated, also offline', async ({ page, context }) => {
    await openStudio(page);
    const manifest = await page.evaluate(async () => {
      const link = document.querySelector<HTMLLinkElement>('link[rel=manifest]');
      return link ? ((await (await fetch(link.href)).json()) as { name: string; icons: { sizes: string }[] }) : null;
    });
    expect(manifest?.name).toBe('DreamBooth Studio');
    expect(manifest?.icons.map((i) => i.sizes)).toContain('512x512');

    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.reload();
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

    await context.setOffline(true);
    await page.reload();
    await expect(page.getByRole('heading', { name: 'DreamBooth Studio' })).toBeVisible();
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', 'webgpu-software');
  });
});
