/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

// Cross-origin isolation: onnxruntime-web needs SharedArrayBuffer for wasm threads.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Browser test harness pages (e2e/harness/*.html), built only by `vite build --mode test`. */
function harnessPages(): Record<string, string> {
  const dir = resolve(__dirname, 'e2e/harness');
  if (!existsSync(dir)) return {};
  const pages = readdirSync(dir).filter((f) => f.endsWith('.html'));
  return Object.fromEntries(pages.map((f) => [`harness-${f.replace(/\.html$/, '')}`, resolve(dir, f)]));
}

export default defineConfig(({ mode }) => ({
  plugins: [react()],
  server: { headers: isolationHeaders, host: '127.0.0.1' },
  preview: { headers: isolationHeaders, host: '127.0.0.1' },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    rollupOptions: {
      // `vite build --mode test` also builds the browser test harness pages under e2e/harness.
      input: {
        main: resolve(__dirname, 'index.html'),
        ...(mode === 'test' ? harnessPages() : {}),
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
    testTimeout: 60_000,
  },
}));
