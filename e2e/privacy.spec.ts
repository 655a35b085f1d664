import { expect, test } from './support/fixtures';
import { fill, galleryItems, generateAndWait, openGenerate } from './support/generate';
import { startStaticServer } from './support/staticServer';
import { openStudio, waitForIdle } from './support/studio';

// "Photos never leave the machine", checked: the guard every test runs under (support/fixtures.ts) records each request
// of the page, its worker and the service worker, and each CSP violation; these tests show it has something to catch.

/** Another origin on the same machine (same server, other host name): reachable, so only the CSP can stop a request. */
const otherOrigin = (baseURL: string) => `http://localhost:${new URL(baseURL).port}`;

test('a subject and a generation: every request stays on the studio origin, no CSP violation', async ({ page, networkGuard }) => {
  test.setTimeout(240_000);
  await openStudio(page);
  await page.getByRole('button', { name: 'Try the sample subject' }).click();
  await waitForIdle(page);
  await expect(page.getByTestId('photo-card')).toHaveCount(4);

  await openGenerate(page);
  await fill(page, { prompt: 'a photo of a cat', steps: 2, guidanceScale: 1, seed: 5 });
  await generateAndWait(page, 120_000);
  await expect(galleryItems(page)).toHaveCount(1);

  const urls = networkGuard.requests().map((r) => new URL(r.url).pathname);
  // The recorder saw the real traffic: the sample photos, the worker and onnxruntime's wasm.
  expect(urls.some((u) => u.startsWith('/sample/'))).toBe(true);
  expect(urls.some((u) => /studio\.worker-.*\.js$/.test(u))).toBe(true);
  expect(urls.some((u) => u.endsWith('.wasm'))).toBe(true);
  expect(networkGuard.takeOffOrigin()).toEqual([]);
  expect(networkGuard.takeViolations()).toEqual([]);
});

test('the Content Security Policy stops the page and the worker from reaching another origin', async ({ page, networkGuard, baseURL }) => {
  const other = otherOrigin(baseURL!);
  // A stand-in for a bug or a compromised dependency in the worker: its first line tries to send data away.
  await page.route('**/assets/studio.worker-*.js', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: `fetch('${other}/from-worker').catch(() => {});\n${await response.text()}` });
  });
  await openStudio(page);
  await page.evaluate(async (other) => {
    await fetch(`${other}/from-page`).catch(() => {});
    const image = new Image();
    image.src = `${other}/icon.svg`;
    await new Promise((resolve) => (image.onerror = image.onload = resolve));
  }, other);

  const seen: string[] = [];
  await expect.poll(() => (seen.push(...networkGuard.takeViolations()), seen.join('\n'))).toMatch(/connect-src[^\n]*from-worker|from-worker[^\n]*connect-src/);
  expect(seen.join('\n')).toMatch(/from-page/);
  expect(seen.join('\n')).toMatch(/img-src/);
  // Chromium reports the blocked image (not the blocked fetches) as a request: the policy stopped it before it was sent.
  const attempts: { url: string; failure?: string }[] = [];
  await expect.poll(() => (attempts.push(...networkGuard.takeOffOrigin()), attempts.map((a) => a.url))).toContain(`${other}/icon.svg`);
  for (const attempt of attempts) expect(attempt.failure, attempt.url).toBe('csp');
  // Late reports of the same three attempts (browser and app each log one): nothing else was refused.
  for (const violation of networkGuard.takeViolations()) expect(violation).toContain(other);
});

test('the Content Security Policy refuses code built from a string, in the page and the worker', async ({ page, networkGuard }) => {
  // The app compiles nothing at run time (its validators are generated at build time), so the policy has no
  // 'unsafe-eval'. A stand-in for a dependency that starts to: the page's and the worker's scripts try eval and
  // new Function (once the app's own listeners are up). Playwright's own page.evaluate is exempt from the policy.
  const attempt = `setTimeout(() => { try { eval('1'); } catch {} try { new Function('return 1')(); } catch {} }, 0);`;
  await page.route(/\/assets\/(main|studio\.worker)-[^/]*\.js$/, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: `${attempt}\n${await response.text()}` });
  });
  await openStudio(page);
  await page.getByRole('button', { name: 'Try the sample subject' }).click(); // work for the worker: it is running
  await waitForIdle(page);

  const seen: string[] = [];
  const refused = (script: string) => new RegExp(`script-src blocked eval in [^\n]*/assets/${script}-`);
  await expect.poll(() => (seen.push(...networkGuard.takeViolations()), seen.join('\n'))).toMatch(refused('main'));
  await expect.poll(() => (seen.push(...networkGuard.takeViolations()), seen.join('\n'))).toMatch(refused('studio\\.worker'));
  // Late reports of the same attempts (browser and app each log them): nothing else was refused.
  for (const violation of [...seen, ...networkGuard.takeViolations()]) expect(violation).toMatch(/eval/);
});

test('the guard records a request that leaves the origin', async ({ page, networkGuard, baseURL }) => {
  const url = `${otherOrigin(baseURL!)}/manifest.webmanifest`;
  await page.goto(url);
  const off: string[] = [];
  await expect.poll(() => (off.push(...networkGuard.takeOffOrigin().map((r) => r.url)), off)).toContain(url);
  // Leave it; the rest of what it loaded is also off-origin, and is what this test provoked.
  await page.goto('about:blank');
  networkGuard.takeOffOrigin();
});

test.describe('on a static host that sends no headers', () => {
  test.use({ serviceWorkers: 'allow' });

  test('dist/ is cross-origin isolated after one reload, through the service worker, and generates', async ({ page, networkGuard }) => {
    test.setTimeout(300_000);
    const server = await startStaticServer('dist', 290);
    try {
      networkGuard.allowOrigin(server.origin);
      const headers = (await fetch(`${server.origin}/`)).headers;
      expect(headers.get('cross-origin-embedder-policy')).toBeNull(); // the host really sends nothing
      expect(headers.get('content-security-policy')).toBeNull();

      let documentLoads = 0;
      page.on('load', () => documentLoads++);
      await page.goto(`${server.origin}/#generate`);
      await expect.poll(() => documentLoads, { timeout: 120_000 }).toBe(2); // the one reload into isolation
      await page.waitForLoadState('load');
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      // The worker's script came through the service worker too, so the worker runs under the same CSP and isolation.
      expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
      const threads = await page.evaluate(() => Math.max(1, navigator.hardwareConcurrency - 1));
      await expect(page.getByTestId('backend-label')).toHaveText(`CPU (wasm, ${threads === 1 ? '1 thread' : `${threads} threads`})`);
      // The worker is isolated as well (its own report), so the badge names no isolation problem.
      await expect(page.getByTestId('backend-speed')).not.toContainText('isolation');

      await openGenerate(page, `${server.origin}/#generate`);
      await fill(page, { prompt: 'a photo of a cat', steps: 2, guidanceScale: 1, seed: 9 });
      await generateAndWait(page, 120_000);
      await expect(galleryItems(page)).toHaveCount(1);
      expect(documentLoads).toBe(2); // no further reload
      // The recorder covers the service worker: its precache fetched the app, all from this origin.
      expect(networkGuard.requests().filter((r) => r.by === 'service worker').length).toBeGreaterThan(0);
    } finally {
      await server.stop();
    }
  });

  test('without service workers (private mode), the studio runs on one thread and the badge says why', async ({ page, networkGuard }) => {
    test.setTimeout(180_000);
    const server = await startStaticServer('dist', 170);
    try {
      networkGuard.allowOrigin(server.origin);
      // As in a browser that offers no service worker here: the property is gone, not just blocked.
      await page.addInitScript(() => delete (Navigator.prototype as { serviceWorker?: unknown }).serviceWorker);
      let documentLoads = 0;
      page.on('load', () => documentLoads++);
      await openGenerate(page, `${server.origin}/#generate`);
      await expect(page.getByTestId('backend-label')).toHaveText('CPU (wasm, 1 thread)');
      await expect(page.getByTestId('backend-speed')).toContainText('wasm threads need cross-origin isolation, and this browser offers no service worker here');
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      // No header and no service worker: the <meta> policy in index.html alone keeps requests on the origin.
      const other = `http://localhost:${new URL(server.origin).port}`;
      await page.evaluate((other) => fetch(`${other}/index.html`).catch(() => {}), other);
      const seen: string[] = [];
      await expect.poll(() => (seen.push(...networkGuard.takeViolations()), seen.join('\n'))).toContain(`${other}/index.html`);
      await fill(page, { prompt: 'a photo of a cat', steps: 1, guidanceScale: 1, seed: 3 });
      await generateAndWait(page, 120_000);
      await expect(galleryItems(page)).toHaveCount(1);
      expect(documentLoads).toBe(1); // nothing to reload into
      // The same violation, reported again by the app's own listener: nothing else was refused.
      for (const violation of networkGuard.takeViolations()) expect(violation).toContain(`${other}/index.html`);
    } finally {
      await server.stop();
    }
  });
});
