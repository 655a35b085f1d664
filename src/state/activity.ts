/**
 * One activity at a time on the page: class priors, training and generation all run in the one worker and compete
 * for the same GPU or CPU, so a second one would only slow both down (and on a GPU may run out of memory).
 *
 * Each store registers a function saying what it is doing now (a sentence) or null; a store about to start asks
 * `otherActivity(itself)` and, when something else runs, shows that sentence as the reason instead of starting.
 * A registry rather than imports, so the stores stay independent of one another (and of this page's wiring).
 */
export type ActivityName = 'priors' | 'training' | 'generating';

const sources = new Map<ActivityName, () => string | null>();

export function registerActivity(name: ActivityName, describe: () => string | null): void {
  sources.set(name, describe);
}

/** What runs now other than `self`, e.g. "Training is running (step 40 of 400)", or null when nothing does. */
export function otherActivity(self: ActivityName): string | null {
  for (const [name, describe] of sources) {
    if (name === self) continue;
    const text = describe();
    if (text) return text;
  }
  return null;
}
