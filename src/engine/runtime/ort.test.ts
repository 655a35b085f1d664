import { afterEach, describe, expect, it, vi } from 'vitest';
import { configureWasmThreads, type Ort } from './ort';

const fakeOrt = (numThreads?: number) => ({ env: { wasm: { numThreads } } }) as unknown as Ort;

describe('configureWasmThreads', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('defaults to one thread in Node, keeps an earlier choice, and applies an explicit count', () => {
    const unset = fakeOrt();
    configureWasmThreads(unset);
    expect(unset.env.wasm.numThreads).toBe(1);
    const chosen = fakeOrt(4);
    configureWasmThreads(chosen);
    expect(chosen.env.wasm.numThreads).toBe(4);
    configureWasmThreads(chosen, 2);
    expect(chosen.env.wasm.numThreads).toBe(2);
  });

  it("leaves the browser's default alone (training and generation share this setting)", () => {
    vi.stubGlobal('process', undefined);
    const ort = fakeOrt();
    configureWasmThreads(ort);
    vi.unstubAllGlobals();
    expect(ort.env.wasm.numThreads).toBeUndefined();
  });
});
