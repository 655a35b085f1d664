import { test as base, expect, type BrowserContext, type ConsoleMessage, type Request, type Worker } from '@playwright/test';

export { expect };
export type { Page } from '@playwright/test';

export interface RecordedRequest {
  url: string;
  /** Who made it: the service worker, or the page and its dedicated workers (Playwright reports both on the context). */
  by: 'service worker' | 'page or worker';
  /** Why it failed, if it did (`csp` when the policy stopped it before it was sent). */
  failure?: string;
}

/** Every request the page, its workers and the service worker make, and every CSP violation, for one test. */
export interface NetworkGuard {
  /** Adds an origin the studio is served from in this test (the test server's own origin is allowed from the start). */
  allowOrigin(origin: string): void;
  requests(): RecordedRequest[];
  /** Returns and forgets the requests that left the allowed origins (for tests that provoke one on purpose). */
  takeOffOrigin(): RecordedRequest[];
  /** Returns and forgets the CSP violations the console reported (for tests that provoke one on purpose). */
  takeViolations(): string[];
}

/** Local schemes never leave the machine. */
const LOCAL_SCHEMES = new Set(['blob:', 'data:', 'about:']);

/**
 * Starts recording a browser context: its pages' requests and those of their dedicated workers and service workers,
 * and each CSP violation any of them reports. `stop()` fails if a request left the allowed origins or a violation
 * was reported. Tests get this through the `networkGuard` fixture; a spec that opens its own page in `beforeAll`
 * watches that page's context itself.
 */
export function watchContext(context: BrowserContext, origins: string[]): NetworkGuard & { stop(): void } {
  const allowed = new Set(origins);
  let requests: RecordedRequest[] = [];
  let violations: string[] = [];
  const recorded = new Map<Request, RecordedRequest>();
  const record = (request: Request) => {
    const entry: RecordedRequest = { url: request.url(), by: request.serviceWorker() ? 'service worker' : 'page or worker' };
    recorded.set(request, entry);
    requests.push(entry);
  };
  const noteFailure = (request: Request) => {
    const entry = recorded.get(request);
    if (entry) entry.failure = request.failure()?.errorText;
  };
  const watchConsole = (message: ConsoleMessage) => {
    if (/Content Security Policy|CSP violation/i.test(message.text())) violations.push(message.text());
  };
  context.on('request', record);
  context.on('requestfailed', noteFailure);
  // The context's console carries the pages'; dedicated and service workers have their own.
  context.on('console', watchConsole);
  const watchWorker = (worker: Worker) => worker.on('console', watchConsole);
  for (const page of context.pages()) page.on('worker', watchWorker);
  context.on('page', (page) => page.on('worker', watchWorker));
  context.on('serviceworker', watchWorker);
  const isOffOrigin = (r: RecordedRequest) => {
    const url = new URL(r.url);
    return !LOCAL_SCHEMES.has(url.protocol) && !allowed.has(url.origin);
  };
  return {
    allowOrigin: (origin) => allowed.add(origin),
    requests: () => [...requests],
    takeOffOrigin: () => {
      const off = requests.filter(isOffOrigin);
      requests = requests.filter((r) => !isOffOrigin(r));
      return off;
    },
    takeViolations: () => {
      const taken = violations;
      violations = [];
      return taken;
    },
    stop: () => {
      context.off('request', record);
      context.off('requestfailed', noteFailure);
      expect(requests.filter(isOffOrigin), 'requests that left the studio origin').toEqual([]);
      expect(violations, 'Content Security Policy violations').toEqual([]);
    },
  };
}

/** Every test in the suite runs under this guard (import `test` from here). */
export const test = base.extend<{ networkGuard: NetworkGuard }>({
  networkGuard: [
    async ({ context, baseURL }, use) => {
      const guard = watchContext(context, baseURL ? [new URL(baseURL).origin] : []);
      await use(guard);
      guard.stop();
    },
    { auto: true },
  ],
});
