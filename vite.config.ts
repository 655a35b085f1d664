/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';

// Cross-origin isolation: onnxruntime-web needs SharedArrayBuffer for wasm threads.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

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
        ...(mode === 'test' ? { engineHarness: resolve(__dirname, 'e2e/harness/engine.html') } : {}),
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
    testTimeout: 60_000,
  },
}));
