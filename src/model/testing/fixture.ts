import { readFileSync } from 'node:fs';
import type { ReferenceIO } from './reference';

/** Reads a file of fixtures/diffusers-tiny-sd (diffusers' tiny SD test components). */
export function fixtureBytes(path: string): Uint8Array {
  return readFileSync(new URL(`../../../fixtures/diffusers-tiny-sd/${path}`, import.meta.url));
}

export function fixtureJson(path: string): unknown {
  return JSON.parse(new TextDecoder().decode(fixtureBytes(path)));
}

export { asInput, maxAbsDiff, type ReferenceIO } from './reference';

export function referenceIO(): ReferenceIO {
  return fixtureJson('reference_io.json') as ReferenceIO;
}
