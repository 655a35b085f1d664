import { expect, test, watchContext, type Page } from './support/fixtures';
import { decode } from 'fast-png';
import type { GenerationRun } from './harness/generation';
import type { OpenBackendOptions } from '../src/generation/inferenceBackend';
import type { GenerateRequest } from '../src/generation/jobTypes';

/**
 * The generation pipeline on the WebGPU EP in headless Chromium. The WebGPU adapter here is SwiftShader, where a
 * 64×64 decode takes minutes: requests use the smallest size the built-in model allows (16×16, 4×4 latents) and
 * two steps. Numerics are compared against the wasm EP in the same page.
 */
const request: GenerateRequest = {
  prompt: 'a photo of a dog',
  negativePrompt: 'blurry',
  sampler: 'euler_a',
  steps: 2,
  guidanceScale: 6,
  seed: 21,
  numImages: 1,
  width: 16,
  height: 16,
  previewEvery: 1,
};

// One page for both tests: onnxruntime compiles each WebGPU shader once per page, which on SwiftShader takes minutes.
test.describe.configure({ mode: 'serial' });
let page: Page;
let guard: ReturnType<typeof watchContext>;
test.beforeAll(async ({ browser, baseURL }) => {
  page = await browser.newPage();
  guard = watchContext(page.context(), [new URL(baseURL!).origin]); // the per-test guard watches another context
  await page.goto('/e2e/harness/generation.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
});
test.afterAll(async () => {
  await page.close();
  guard.stop();
});

const generate = (backend: OpenBackendOptions, requests: GenerateRequest[], cancel?: { request: number; atStep: number }): Promise<GenerationRun[]> =>
  page.evaluate(([b, r, c]) => window.generationHarness.generate(b, r, c), [backend, requests, cancel] as const);

function maxPixelDiff(a: number[], b: number[]): number {
  const [pa, pb] = [decode(Uint8Array.from(a)).data, decode(Uint8Array.from(b)).data];
  expect(pa.length).toBe(pb.length);
  let m = 0;
  for (let i = 0; i < pa.length; i++) m = Math.max(m, Math.abs(pa[i]! - pb[i]!));
  return m;
}

let wasmPng: number[];

test('WebGPU runs the whole denoising loop on the GPU, says so, and matches the wasm EP', async () => {
  test.setTimeout(600_000);
  const architecture = await page.evaluate(() => window.generationHarness.adapter());
  expect(architecture, 'headless Chromium must expose a WebGPU adapter (--enable-unsafe-webgpu)').not.toBeNull();
  // toContain('') below would pass for any adapter: the page's adapter must name its architecture.
  expect(architecture, 'the adapter names its architecture').toMatch(/\S/);

  const [wasm] = await generate({ preference: 'wasm' }, [request]);
  // 'webgpu' alone: a WebGPU failure is an error here, never a silent wasm run. The step session also refuses
  // latents that come back off the GPU, so a finished run means they stayed in GPU buffers.
  const gpu = await generate({ preference: 'webgpu', webGpuIo: 'gpu' }, [request, request, request]);
  for (const run of gpu) {
    expect(run.error).toBeUndefined();
    expect(run.result!.backend).toMatchObject({ ep: 'webgpu', kind: architecture === 'swiftshader' ? 'software-gpu' : 'gpu', requested: 'webgpu' });
    expect(run.result!.backend.adapter).toContain(architecture!);
  }
  expect(wasm!.result!.backend).toMatchObject({ ep: 'wasm', kind: 'cpu' });
  // Same seed, same image on both backends (float32 on different hardware: a level or two of 255 at most).
  wasmPng = wasm!.pngs[0]!;
  expect(maxPixelDiff(gpu[0]!.pngs[0]!, wasmPng)).toBeLessThanOrEqual(2);
  // Reproducible on WebGPU, and the second request reuses the compiled sessions and cached text embeddings.
  expect(gpu[1]!.pngs[0]).toEqual(gpu[0]!.pngs[0]);
  expect(gpu[1]!.result!.timings.compileMs).toBe(0);
  expect(gpu[1]!.result!.usage.textCache).toEqual({ hits: 2, misses: 0 });
  // Every tensor of a request went back (to onnxruntime's pool, or destroyed): once warm, a request needs no new buffer.
  expect(gpu[1]!.gpuBuffers).toBeGreaterThan(0);
  expect(gpu[2]!.pngs[0]).toEqual(gpu[0]!.pngs[0]);
  expect(gpu[2]!.gpuBuffers).toBe(gpu[1]!.gpuBuffers);
});

test('graph capture (fixed buffers, replayed commands) gives the same image; a cancel mid-run leaves the session ready and leaks nothing', async () => {
  test.setTimeout(600_000);
  // Requests with new prompts run the text encoder between replays of the captured step; a cancelled one stops after
  // its first step; the last has no guidance (a second captured step session, whose latents the same decoder reads).
  const cat = { ...request, prompt: 'a photo of a cat' };
  const teapot = { ...request, prompt: 'a teapot' };
  const requests = [request, cat, request, { ...request, steps: 3 }, request, teapot, { ...request, guidanceScale: 1 }];
  const captured = await generate({ preference: 'webgpu', webGpuIo: 'capture' }, requests, { request: 3, atStep: 1 });
  for (const i of [0, 1, 2, 4, 5, 6]) {
    expect(captured[i]!.error).toBeUndefined();
    expect(captured[i]!.result!.backend.ep).toBe('webgpu');
  }
  expect(maxPixelDiff(captured[0]!.pngs[0]!, wasmPng)).toBeLessThanOrEqual(2);
  expect(captured[5]!.result!.usage.textCache).toEqual({ hits: 1, misses: 1 });
  // The fourth request is cancelled after its first step…
  expect(captured[3]!.error).toMatchObject({ code: 'cancelled' });
  expect(captured[3]!.stepsSeen).toEqual([1]);
  // …the next one on the same (cached, captured) session is unaffected by it…
  expect(captured[4]!.pngs[0]).toEqual(captured[0]!.pngs[0]);
  // …and from the third request on (onnxruntime's pool warm for every session) none left a GPU buffer behind.
  expect(captured[5]!.gpuBuffers).toBe(captured[2]!.gpuBuffers);
});
