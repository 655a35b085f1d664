/**
 * Logs each Content Security Policy violation with what was blocked and where, in development and test builds: a
 * violation means some code tried to reach beyond the studio's own origin (the browser tests fail on it).
 */
export function logCspViolations(target: EventTarget): void {
  if (!import.meta.env.DEV && import.meta.env.MODE !== 'test') return;
  target.addEventListener('securitypolicyviolation', (event) => {
    const e = event as SecurityPolicyViolationEvent;
    console.error(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} in ${e.sourceFile || e.documentURI}:${e.lineNumber}`);
  });
}
