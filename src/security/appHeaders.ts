/**
 * The headers every response of the studio carries, wherever it is hosted: `vite preview` and `vite dev` send them,
 * the built `index.html` carries the policy as a `<meta>`, and the service worker adds all of them to every
 * response it serves (so a static host that sends no headers still gets them after the first load).
 */

/**
 * The studio reaches only its own origin: this is what makes "photos never leave the machine" a property of the app.
 * `blob:`/`data:` are local (object URLs of photos and results, inline images); `'wasm-unsafe-eval'` lets
 * onnxruntime compile its WebAssembly, and is the only exception to "scripts are the app's own files": no `eval` or
 * `new Function` (the JSON Schema validators are compiled at build time, scripts/schemaRegistry.ts).
 * No `frame-ancestors` or `report-uri`: a `<meta>` policy cannot carry them.
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self' blob: data:",
  "img-src 'self' blob: data:",
  "font-src 'self'",
  "style-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Cross-origin isolation: onnxruntime-web needs SharedArrayBuffer for wasm threads. */
export const isolationHeaders: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The dev server's policy: the same, plus what Vite's development mode itself needs (React Refresh's inline
 * preamble, styles injected as <style>; its HMR websocket is same-origin, which 'self' covers). The built app
 * never gets these.
 */
export const developmentContentSecurityPolicy = contentSecurityPolicy
  .replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
  .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");

/** Isolation plus the policy, as a server or the service worker sends them. */
export const appHeaders: Readonly<Record<string, string>> = {
  ...isolationHeaders,
  'Content-Security-Policy': contentSecurityPolicy,
};
