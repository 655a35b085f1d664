/**
 * `npm run bench:sample`: sampling benchmark of the generation pipeline, printed as JSON.
 *
 *   - wasm EP in Node (this process): 25-step guided images per sampler at 64×64;
 *   - WebGPU EP in headless Chromium through the harness page (e2e/harness/generation.html, built by
 *     `vite build --mode test`, served by `vite preview`), with the latents in ORT's GPU buffers ('gpu') and with
 *     graph capture ('capture'). Here Chromium's WebGPU is SwiftShader (a CPU renderer), so the browser runs use
 *     fewer steps and a 16×16 image; the JSON says so.
 *
 * Options: --no-browser, --no-build (reuse dist/), --steps=N (Node, default 25), --browser-steps=N (default 2),
 * --browser-size=N (default 16), --repeats=N (default 2), --threads=N (wasm, default min(4, cores)).
 * On an NVIDIA GPU without a browser: bench/sample-gpu.mjs.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { SAMPLER_NAMES, type SamplerName } from '../src/diffusion/schedulerConfig';
import { flag, option, withHarnessPage } from './harness-page';
import { measureSampling, type SampleBenchOptions, type SampleBenchResult } from './sampleMeasure';

const steps = Number(option('steps', '25'));
const browserSteps = Number(option('browser-steps', '2'));
const browserSize = Number(option('browser-size', '16'));
const repeats = Number(option('repeats', '2'));
const threads = Number(option('threads', String(Math.min(4, cpus().length))));
const PORT = 4181;

type Row = { where: 'node' | 'chromium'; io?: string } & (SampleBenchResult | { error: string });

async function browser(): Promise<{ rows: Row[]; chromium: string }> {
  const { value: rows, chromium } = await withHarnessPage('generation', PORT, async (page) => {
    const rows: Row[] = [];
    for (const io of ['gpu', 'capture'] as const) {
      const o: SampleBenchOptions = {
        backend: { preference: 'webgpu', webGpuIo: io },
        samplers: ['dpmpp_2m'],
        steps: browserSteps,
        repeats: 1,
        size: browserSize,
      };
      try {
        rows.push({ where: 'chromium', io, ...(await page.evaluate((q) => window.generationHarness.measure(q), o)) });
      } catch (e) {
        rows.push({ where: 'chromium', io, error: (e as Error).message.split('\n')[0]! });
      }
      process.stderr.write(`  ${JSON.stringify(rows.at(-1))}\n`);
    }
    return rows;
  });
  return { rows, chromium };
}

const rows: Row[] = [];
rows.push({
  where: 'node',
  ...(await measureSampling({ backend: { preference: 'wasm', threads }, samplers: [...SAMPLER_NAMES] as SamplerName[], steps, repeats })),
});
process.stderr.write(`  ${JSON.stringify(rows[0])}\n`);
const web = flag('no-browser') ? null : await browser();
if (web) rows.push(...web.rows);

const round = (x: number) => Math.round(x * 100) / 100;
console.log(
  JSON.stringify(
    {
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, chromium: web?.chromium },
      model: 'built-in (models/builtin; `untrained` in each row: its weights files were missing): UNet 5.7 M parameters, 4×16×16 latents, 64×64 images',
      note:
        'msPerImage: median warm time of one guided image (text embeddings cached, sessions compiled; text, denoising, VAE decode and PNG). ' +
        'msPerStep = (msPerImage − the same at 1 step) / (steps − 1) = one UNet evaluation at batch 2 with guidance and the sampler update. ' +
        `Chromium rows run on its WebGPU adapter (SwiftShader, a CPU renderer, on this machine) with ${browserSteps} steps at ${browserSize}×${browserSize}, not the goal's 25 steps at 64×64.`,
      load: loadavg().map(round),
      results: rows,
    },
    null,
    2,
  ),
);
