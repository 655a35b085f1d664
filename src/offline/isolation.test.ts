import { describe, expect, it } from 'vitest';
import { isolationStep } from './isolation';

describe('isolationStep', () => {
  it('does nothing when the host already isolates the page', () => {
    expect(isolationStep({ isolated: true, serviceWorker: null, alreadyReloaded: false })).toEqual({ kind: 'isolated' });
    expect(isolationStep({ isolated: true, serviceWorker: 'none here', alreadyReloaded: true })).toEqual({ kind: 'isolated' });
  });

  it('reloads once when a service worker controls a page that is not isolated yet', () => {
    expect(isolationStep({ isolated: false, serviceWorker: null, alreadyReloaded: false })).toEqual({ kind: 'reload' });
  });

  it('never reloads twice: after the one reload it says why threads are off', () => {
    const step = isolationStep({ isolated: false, serviceWorker: null, alreadyReloaded: true });
    expect(step.kind).toBe('not-isolated');
    expect(step.kind === 'not-isolated' && step.why).toMatch(/still not cross-origin isolated after reloading/);
  });

  it('without a service worker, passes its reason on and does not reload', () => {
    expect(isolationStep({ isolated: false, serviceWorker: 'no service worker (private mode)', alreadyReloaded: false })).toEqual({
      kind: 'not-isolated',
      why: 'no service worker (private mode)',
    });
  });
});
