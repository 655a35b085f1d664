import { defineConfig } from '@playwright/test';

// E2E_PORT: a second checkout (git worktree) can run its browser tests beside this one's server.
const port = Number(process.env.E2E_PORT ?? 4173);

/**
 * Browser tests against the production build (`vite build --mode test`, which also builds e2e/harness pages),
 * served by `vite preview` with COOP/COEP. Debian's Chromium is used as installed; no browser is downloaded.
 */
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  workers: 1, // 2-core machines: parallel browsers only slow each other down
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    headless: true,
    // A service worker would let one test's cache answer the next; the PWA spec turns it back on.
    serviceWorkers: 'block',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  webServer: {
    command: `npx vite preview --port ${port} --strictPort`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
