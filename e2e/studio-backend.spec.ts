import { expect, test } from '@playwright/test';
import { openStudio } from './support/studio';

test('the badge shows the WebGPU adapter the worker found', async ({ page }) => {
  await openStudio(page);
  const badge = page.getByTestId('backend-badge');
  // Headless Chromium with --enable-unsafe-webgpu has SwiftShader: a real adapter, in software.
  await expect(badge).toHaveAttribute('data-backend', 'webgpu-software');
  await expect(page.getByTestId('backend-label')).toHaveText('WebGPU (software)');
  await badge.locator('summary').click();
  await expect(page.getByTestId('adapter-architecture')).not.toHaveText(/^(—|)$/);
  const reported = `${await page.getByTestId('adapter-architecture').textContent()} ${await page.getByTestId('adapter-description').textContent()}`;
  expect(reported.toLowerCase()).toContain('swiftshader');
  await expect(badge).toContainText('slower than a graphics card');

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
  await expect(page.getByTestId('backend-label')).toHaveText('CPU (wasm)');
  await page.getByTestId('backend-badge').locator('summary').click();
  await expect(page.getByTestId('backend-badge')).toContainText('navigator.gpu missing');
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
    await expect(page.getByTestId('backend-label')).toHaveText('WebGPU (software)');
  });
});
