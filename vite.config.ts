/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { appHeaders, contentSecurityPolicy, developmentContentSecurityPolicy, isolationHeaders } from './src/security/appHeaders.ts';
import { sampleSubjectPlugin } from './src/subjects/sampleSubjectPlugin.ts';
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

/** The built index.html carries the Content Security Policy itself, so it holds on any host. */
function contentSecurityPolicyMeta(): Plugin {
  return {
    name: 'content-security-policy-meta',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy }, injectTo: 'head-prepend' }],
  };
}

/** Browser test harness pages (e2e/harness/*.html), built only by `vite build --mode test`. */
function harnessPages(): Record<string, string> {
  const dir = resolve(import.meta.dirname, 'e2e/harness');
  if (!existsSync(dir)) return {};
  const pages = readdirSync(dir).filter((f) => f.endsWith('.html'));
  return Object.fromEntries(pages.map((f) => [`harness-${f.replace(/\.html$/, '')}`, resolve(dir, f)]));
}

export default defineConfig(({ mode }) => ({
  plugins: [
    react(),
    sampleSubjectPlugin(),
    contentSecurityPolicyMeta(),
    // Installable, offline app. Our own service worker (src/offline/serviceWorker.ts) adds COOP/COEP and the CSP to
    // every response it serves; src/offline/isolation.ts registers it.
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/offline',
      filename: 'serviceWorker.ts',
      injectRegister: false,
      includeAssets: ['icon.svg'],
      manifest: {
        name: 'DreamBooth Studio',
        short_name: 'DreamBooth',
        description: 'Personalise a text-to-image model to your own subject, entirely in the browser.',
        theme_color: '#3a4fd8',
        background_color: '#16171b',
        display: 'standalone',
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      injectManifest: {
        globPatterns: ['**/*.{js,mjs,css,html,png,svg,wasm,webmanifest,safetensors}'],
        globIgnores: ['e2e/**', '**/harness-*'],
        // onnxruntime-web's wasm is ~25 MB; the app must still start offline.
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
        rollupFormat: 'iife',
      },
    }),
  ],
  server: { headers: { ...isolationHeaders, 'Content-Security-Policy': developmentContentSecurityPolicy }, host: '127.0.0.1' },
  preview: { headers: appHeaders, host: '127.0.0.1' },
  worker: { format: 'es', rolldownOptions: { checks: { bundlerTimings: false } } },
  build: {
    target: 'es2022',
    rolldownOptions: {
      // `vite build --mode test` also builds the browser test harness pages under e2e/harness.
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        ...(mode === 'test' ? harnessPages() : {}),
      },
      // Timing notes only say that plugins (the PWA precache of onnxruntime's 25 MB wasm) take time: nothing to act on.
      checks: { bundlerTimings: false },
    },
    // The test harness pages bundle the whole engine and model code into one chunk each; they never ship.
    ...(mode === 'test' ? { chunkSizeWarningLimit: 4096 } : {}),
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
  },
}));
