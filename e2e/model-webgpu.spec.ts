import { expect, test, type Page } from './support/fixtures';
import type { Component, ComponentResult, ModelHarness, SamplingGraph } from './harness/model';

declare global {
  interface Window {
    modelHarness: ModelHarness;
  }
}

const run = (page: Page, component: Component): Promise<ComponentResult> => page.evaluate((c) => window.modelHarness.runComponent(c), component);

/** The WebGPU EP (JSEP) is onnxruntime-web's JsExecutionProvider; the wasm EP is its CPUExecutionProvider. */
const WEBGPU_EP = 'JsExecutionProvider';

// SwiftShader compiles every shader on the first run and computes on the CPU: the UNet took 1–2 min
// (text encoder 5–8 s) on a 2-core machine busy with other work. The VAE is left out: its 64×64 activations make
// it the slowest of the three there, and it has no op kind the UNet lacks.
for (const component of ['unet', 'text_encoder'] as const) {
  test(`the ${component} built by the project reproduces PyTorch on WebGPU, every node on the GPU`, async ({ page }) => {
    test.setTimeout(300_000);
    await page.goto('/e2e/harness/model.html');
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    const probe = await page.evaluate(() => window.modelHarness.probeWebGpu());
    expect(probe.adapter, 'headless Chromium must expose a WebGPU adapter (--enable-unsafe-webgpu)').toBe(true);

    const r = await run(page, component);
    console.log(`${component}: ${JSON.stringify({ maxAbsError: r.maxAbsError, built: r.builtNodes, placement: r.placement.nodesPerProvider, ms: r.ms })}`);

    // WebGPU alone was requested (a list with wasm falls back silently), onnxruntime created its GPU
    // device on the adapter the page sees, and placed the nodes on the WebGPU EP.
    expect(r.executionProviders).toEqual(['webgpu']);
    expect(r.backend.ep).toBe('webgpu');
    expect(r.backend.adapter?.architecture).toBe(probe.architecture);
    expect(r.placement.offWebGpu, 'nodes onnxruntime placed off WebGPU').toEqual([]);
    expect(Object.keys(r.placement.nodesPerProvider)).toEqual([WEBGPU_EP]);
    expect(r.placement.nodesPerProvider[WEBGPU_EP]).toBeGreaterThan(0);

    for (const [output, err] of Object.entries(r.maxAbsError)) expect(err, output).toBeLessThanOrEqual(1e-4);
  });
}

// The graphs sampling runs add guidance, the sampler update and the latent scaling around the UNet and VAE.
for (const graph of ['denoise_step', 'latent_decoder'] as const satisfies readonly SamplingGraph[]) {
  test(`every node of the sampling pipeline's ${graph} graph is placed on WebGPU`, async ({ page }) => {
    await page.goto('/e2e/harness/model.html');
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    const placement = await page.evaluate((g) => window.modelHarness.placementOf(g), graph);
    expect(placement.offWebGpu, 'nodes onnxruntime placed off WebGPU').toEqual([]);
    expect(Object.keys(placement.nodesPerProvider)).toEqual([WEBGPU_EP]);
  });
}
