import { expect, test } from './support/fixtures';
import type { HarnessRequest, HarnessResult } from './harness/engine';

const run = (page: import('./support/fixtures').Page, req: HarnessRequest): Promise<HarnessResult> =>
  page.evaluate((r) => window.engineHarness.runTrainStep(r), req);

/** Relative closeness of two loss curves. */
function expectSameCurve(a: number[], b: number[], rel: number): void {
  expect(b).toHaveLength(a.length);
  a.forEach((x, i) => expect(Math.abs(x - b[i]!) / Math.abs(x), `step ${i + 1}: ${x} vs ${b[i]}`).toBeLessThan(rel));
}

test('the train step gives the same loss curve on WebGPU (plain and graph-captured) as on wasm, and WebGPU really ran', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('/e2e/harness/engine.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  expect(await page.evaluate(() => window.engineHarness.crossOriginIsolated())).toBe(true);
  const probe = await page.evaluate(() => window.engineHarness.probeWebGpu());
  expect(probe.adapter, 'headless Chromium must expose a WebGPU adapter (--enable-unsafe-webgpu)').toBe(true);
  // An empty identity would let the comparison with the runtime's adapter below pass vacuously.
  expect(probe.architecture, 'the adapter names its architecture').not.toBe('');

  // SwiftShader is ~25x slower than wasm: the tiny block and a few steps.
  const steps = 5;
  const wasm = await run(page, { network: 'tiny', ep: 'wasm', steps });
  const gpu = await run(page, { network: 'tiny', ep: 'webgpu', steps });
  // Graph capture: every input and output in fixed GPU buffers, commands recorded once and replayed.
  const captured = await run(page, { network: 'tiny', ep: 'webgpu', io: 'capture', steps });

  expect(wasm.backend).toMatchObject({ ep: 'wasm', kind: 'cpu' });
  // The runtime requested the webgpu EP alone and checked its state outputs came back as GPU buffers
  // (it throws otherwise); here the adapter it reports must be the one the page sees.
  expect(gpu.backend.ep).toBe('webgpu');
  expect(gpu.backend.adapter?.architecture).toBe(probe.architecture);
  expect(gpu.backend.kind).toBe(probe.architecture === 'swiftshader' ? 'software-gpu' : 'gpu');
  expect(gpu.nodeCount).toBe(wasm.nodeCount);

  expect(wasm.losses[steps - 1]!).toBeLessThan(wasm.losses[0]! * 0.75);
  expectSameCurve(wasm.losses, gpu.losses, 1e-4);
  expect(captured.backend.ep).toBe('webgpu');
  expectSameCurve(gpu.losses, captured.losses, 1e-5);
});

test('the larger reference block, whose convs take the stride-1 (shifts) and strided (im2col) weight gradients, trains the same on WebGPU as on wasm', async ({
  page,
}) => {
  // The tiny block's convs take each weight-gradient form once (conv_in with 3 input channels one Conv, conv_down im2col,
  // conv_out shifts on 4×4 images in one chunk). This block (4 -> 32 -> 4 channels at 32×32, all weights training) runs
  // shifts on both stride-1 convs, conv_in's 8 images in 4 chunks summed, as in the UNet and VAE.
  test.setTimeout(180_000);
  await page.goto('/e2e/harness/engine.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  const steps = 3;
  const wasm = await run(page, { network: 'reference', ep: 'wasm', steps });
  const gpu = await run(page, { network: 'reference', ep: 'webgpu', steps });
  expect(gpu.backend.ep).toBe('webgpu');
  expect(wasm.losses[steps - 1]!).toBeLessThan(wasm.losses[0]!);
  expectSameCurve(wasm.losses, gpu.losses, 1e-4);
});

test('int64 and int32 feeds that change every step (token ids) give the same losses in fixed GPU buffers, plain and captured, as on wasm', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/e2e/harness/engine.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  const steps = 4;
  const wasm = await page.evaluate((n) => window.engineHarness.runIdsStep({ ep: 'wasm', steps: n }), steps);
  for (const io of ['ort', 'gpu', 'capture'] as const) {
    const gpu = await page.evaluate((r) => window.engineHarness.runIdsStep(r), { ep: 'webgpu' as const, io, steps });
    expect(gpu.backend.ep, io).toBe('webgpu');
    expectSameCurve(wasm.losses, gpu.losses, 1e-5);
  }
  // The ids differ per step, so a buffer left holding step 1's ids would change every later loss.
  expect(new Set(wasm.losses.map((l) => l.toPrecision(6))).size).toBe(steps);
});

/** The WebGPU EP (JSEP) is onnxruntime-web's JsExecutionProvider. */
const WEBGPU_EP = 'JsExecutionProvider';

test('every node of the compiled train-step programs (optimizer, Split/Concat trees, loss, conv gradients) is placed on WebGPU', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('/e2e/harness/engine.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  const placements = await page.evaluate(() => window.engineHarness.trainStepPlacement());
  expect(Object.keys(placements)).toEqual([
    'tiny step',
    'tiny accumulate',
    'tiny apply',
    'unet LoRA step',
    'embedding step',
    'VAE pretraining step',
    'UNet + text encoder pretraining step',
  ]);
  for (const [program, p] of Object.entries(placements)) {
    console.log(`${program}: ${JSON.stringify({ nodes: p.nodes, placement: p.nodesPerProvider })}`);
    expect(p.offWebGpu, `${program}: nodes onnxruntime placed off WebGPU`).toEqual([]);
    expect(Object.keys(p.nodesPerProvider), program).toEqual([WEBGPU_EP]);
    expect(p.nodesPerProvider[WEBGPU_EP], program).toBeGreaterThan(0);
  }
});

test('a WebGPU validation error fails the run instead of yielding zeros', async ({ page }) => {
  await page.goto('/e2e/harness/engine.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  const error = await page.evaluate(() => window.engineHarness.runInvalidProgram());
  expect(error).toMatch(/WebGPU reported errors while running step: .*storage buffers/);
});

test('a graph-captured reader of shared state sees each update in place and refuses to move to another buffer', async ({ page }) => {
  await page.goto('/e2e/harness/engine.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  const r = await page.evaluate(() => window.engineHarness.runBorrowAfterCapture());
  // 0+1+…+7, then +8 per lender step: the replay reads the lender's buffer, not a copy taken at capture.
  expect(r.sums).toEqual(r.lenderSums);
  expect(new Set(r.sums).size).toBe(3);
  expect(r.borrowError).toBe('ProgramRuntime: values cannot move to another buffer once the captured sessions have run');
  expect(r.importError).toBe('ProgramRuntime: values cannot move to another buffer once the captured sessions have run');
  expect(r.buffersLeft).toBe(0);
});
