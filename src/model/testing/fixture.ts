import { readFileSync } from 'node:fs';
import { readSafetensors } from '../safetensors';
import type { WeightSource } from '../params';
import type { ReferenceIO } from './reference';

/** Reads a file of fixtures/diffusers-tiny-sd (diffusers' tiny SD test components). */
export function fixtureBytes(path: string): Uint8Array {
  return readFileSync(new URL(`../../../fixtures/diffusers-tiny-sd/${path}`, import.meta.url));
}

export function fixtureJson(path: string): unknown {
  return JSON.parse(new TextDecoder().decode(fixtureBytes(path)));
}

/** The component's safetensors file as a weight source. */
export function fixtureWeights(path: string): WeightSource {
  return { kind: 'weights', tensors: readSafetensors(fixtureBytes(path), (n) => n.endsWith('position_ids')) };
}

export { asInput, maxAbsDiff, type ReferenceIO } from './reference';

export function referenceIO(): ReferenceIO {
  return fixtureJson('reference_io.json') as ReferenceIO;
}
