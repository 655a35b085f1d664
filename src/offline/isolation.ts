// Cross-origin isolation without server help: when the host sent no COOP/COEP, the service worker (which adds them
// to every response) takes over and the page reloads once into isolation. If that cannot happen, the studio runs
// single-threaded and says why.
import { create } from 'zustand';

export interface IsolationState {
  /** Why the page is not cross-origin isolated (wasm runs on 1 thread); null when it is, or while it is not known. */
  why: string | null;
}

export const useIsolation = create<IsolationState>(() => ({ why: null }));

/** Marks the one reload, so a service worker that cannot isolate the page never causes a reload loop. */
const RELOAD_MARK = 'studio:isolation-reload';

export type IsolationStep = { kind: 'isolated' } | { kind: 'reload' } | { kind: 'not-isolated'; why: string };

/** What to do once the service worker is as ready as it will get. */
export function isolationStep(s: { isolated: boolean; serviceWorker: string | null; alreadyReloaded: boolean }): IsolationStep {
  if (s.isolated) return { kind: 'isolated' };
  if (s.serviceWorker !== null) return { kind: 'not-isolated', why: s.serviceWorker };
  if (s.alreadyReloaded) {
    return {
      kind: 'not-isolated',
      why: 'the service worker is running but the page is still not cross-origin isolated after reloading (the browser may not honour headers added by a service worker)',
    };
  }
  return { kind: 'reload' };
}

/** Registers the service worker and, where the host sent no isolation headers, reloads once into isolation. */
export async function startIsolation(scriptUrl: string, scope: string): Promise<void> {
  const problem = await serviceWorkerProblem(scriptUrl, scope);
  const alreadyReloaded = sessionStorage.getItem(RELOAD_MARK) !== null;
  const step = isolationStep({ isolated: crossOriginIsolated, serviceWorker: problem, alreadyReloaded });
  if (step.kind === 'reload') {
    sessionStorage.setItem(RELOAD_MARK, '1');
    location.reload();
    return;
  }
  // Kept when isolation failed, so later loads in this tab do not reload again for nothing.
  if (step.kind === 'isolated') sessionStorage.removeItem(RELOAD_MARK);
  useIsolation.setState({ why: step.kind === 'not-isolated' ? step.why : null });
}

/** Null once a service worker controls this page; otherwise why none can. */
async function serviceWorkerProblem(scriptUrl: string, scope: string): Promise<string | null> {
  if (!('serviceWorker' in navigator)) {
    return 'this browser offers no service worker here (private mode, or service workers turned off), so the page cannot add the headers the host did not send';
  }
  try {
    await navigator.serviceWorker.register(scriptUrl, { scope });
  } catch (error) {
    return `the service worker could not be registered (${error instanceof Error ? error.message : String(error)})`;
  }
  if (crossOriginIsolated) return null; // the host sent the headers: nothing to wait for
  const registration = await Promise.race([navigator.serviceWorker.ready, delay(60_000)]);
  if (!registration) return 'the service worker did not become ready within a minute';
  if (!navigator.serviceWorker.controller) {
    // clients.claim() in the worker's activate makes it this page's controller shortly after it is ready.
    const claimed = await Promise.race([
      new Promise<true>((resolve) => navigator.serviceWorker.addEventListener('controllerchange', () => resolve(true), { once: true })),
      delay(10_000),
    ]);
    if (!claimed && !navigator.serviceWorker.controller) return 'the service worker did not take control of the page';
  }
  return null;
}

const delay = (ms: number) => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms));
