/// <reference lib="webworker" />
// The studio's service worker: precaches the app (it works offline) and adds the app's headers — COOP/COEP for
// cross-origin isolation and the Content Security Policy — to every response it serves, so that a static host that
// sends no headers still gets an isolated, locked-down studio after one reload (see src/offline/isolation.ts).
import { appHeaders } from '../security/appHeaders';

interface PrecacheEntry {
  url: string;
  revision: string | null;
}
declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: PrecacheEntry[] };

const cacheName = 'studio-precache';
const scope = new URL(self.registration.scope);
/** Absolute URL → cache key; the revision is part of the key, so a changed file is fetched again on update. */
const precached = new Map(
  self.__WB_MANIFEST.map(({ url, revision }) => {
    const absolute = new URL(url, scope).href;
    return [absolute, revision ? `${absolute}?__revision=${revision}` : absolute] as const;
  }),
);
const appShell = new URL('index.html', scope).href;
/** Test harness pages (test builds only) are not precached and never get the app shell instead. */
const harnessPrefix = new URL('e2e/', scope).href;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(cacheName);
      const present = new Set((await cache.keys()).map((r) => r.url));
      await Promise.all(
        [...precached]
          .filter(([, key]) => !present.has(key))
          .map(async ([url, key]) => {
            const response = await fetch(url, { cache: 'reload' });
            if (!response.ok) throw new Error(`Precaching ${url} failed: HTTP ${response.status}`);
            await cache.put(key, response);
          }),
      );
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(cacheName);
      const current = new Set(precached.values());
      await Promise.all((await cache.keys()).filter((r) => !current.has(r.url)).map((r) => cache.delete(r)));
      await self.clients.claim(); // the page that installed it is served (and isolated) after its one reload
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== scope.origin) return;
  event.respondWith(respond(request));
});

async function respond(request: Request): Promise<Response> {
  const key = precacheKey(request);
  const cached = key === undefined ? undefined : await caches.match(key, { cacheName });
  return withAppHeaders(cached ?? (await fetch(request)));
}

function precacheKey(request: Request): string | undefined {
  const url = new URL(request.url);
  url.search = '';
  url.hash = '';
  const key = precached.get(url.href);
  if (key !== undefined || request.mode !== 'navigate' || url.href.startsWith(harnessPrefix)) return key;
  return precached.get(appShell); // a single-page app: every other navigation gets index.html
}

function withAppHeaders(response: Response): Response {
  if (response.type === 'opaque' || response.type === 'opaqueredirect') return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(appHeaders)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
