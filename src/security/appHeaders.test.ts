import { describe, expect, it } from 'vitest';
import { appHeaders, contentSecurityPolicy, developmentContentSecurityPolicy } from './appHeaders';

const directives = (policy: string) =>
  new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...sources]) => [name!, sources]),
  );

// Sources that keep a request on this machine: the app's own origin, local object URLs and inline data.
const LOCAL = new Set(["'self'", 'blob:', 'data:']);
const FETCH_DIRECTIVES = ['default-src', 'connect-src', 'img-src', 'font-src', 'script-src', 'worker-src', 'style-src', 'manifest-src'];

describe('contentSecurityPolicy', () => {
  const policy = directives(contentSecurityPolicy);

  it('lets every kind of request reach only the app’s own origin', () => {
    for (const name of FETCH_DIRECTIVES) {
      const sources = policy.get(name);
      expect(sources, name).toBeDefined();
      const remote = sources!.filter((s) => !LOCAL.has(s) && s !== "'wasm-unsafe-eval'");
      expect(remote, name).toEqual([]);
    }
  });

  it('allows no inline script, no eval, no plugins, no <base> and no form submission', () => {
    expect(policy.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(policy.get('script-src')).not.toContain("'unsafe-inline'");
    expect(policy.get('script-src')).not.toContain('data:');
    expect(policy.get('script-src')).not.toContain('blob:');
    expect(policy.get('object-src')).toEqual(["'none'"]);
    expect(policy.get('base-uri')).toEqual(["'none'"]);
    expect(policy.get('form-action')).toEqual(["'none'"]);
  });

  it('is what servers and the service worker send, with COOP/COEP', () => {
    expect(appHeaders['Content-Security-Policy']).toBe(contentSecurityPolicy);
    expect(appHeaders['Cross-Origin-Opener-Policy']).toBe('same-origin');
    expect(appHeaders['Cross-Origin-Embedder-Policy']).toBe('require-corp');
  });

  it('relaxes only what Vite’s dev server needs, and still names no other host', () => {
    const policy = directives(contentSecurityPolicy);
    const dev = directives(developmentContentSecurityPolicy);
    expect(dev.get('script-src')).toContain("'unsafe-inline'");
    expect(dev.get('style-src')).toContain("'unsafe-inline'");
    expect(dev.get('connect-src')).toEqual(policy.get('connect-src'));
    expect(developmentContentSecurityPolicy).not.toMatch(/https?:|wss?:/);
  });
});
