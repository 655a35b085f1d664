/**
 * Sampling benchmark on a GPU without a browser: onnxruntime-web's WebGPU EP on Dawn (npm `webgpu`) in Node,
 * as /work/shared/gpu.md describes. Prints JSON like `npm run bench:sample`.
 *
 *   node --import tsx bench/sample-gpu.mjs [--steps=25] [--repeats=5] [--io=gpu|capture|both] [--samplers=ddim,euler_a,dpmpp_2m] [--size=64]
 *
 * NVIDIA (Vulkan driver installed): runs as is; set XDG_RUNTIME_DIR=/tmp to silence a Dawn warning.
 * CPU-only Linux, against Chromium's SwiftShader (slow: use --steps=2 --size=16 --repeats=1):
 *   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json XDG_RUNTIME_DIR=/tmp \
 *     node --import tsx bench/sample-gpu.mjs --steps=2 --size=16 --repeats=1
 */
import { cpus, totalmem } from 'node:os';

const args = process.argv.slice(2);
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const steps = Number(option('steps', '25'));
const repeats = Number(option('repeats', '5'));
const size = Number(option('size', '64'));
const ios = option('io', 'both') === 'both' ? ['gpu', 'capture'] : [option('io', 'gpu')];
const samplers = option('samplers', 'ddim,euler_a,dpmpp_2m').split(',');

const { installDawn } = await import('../src/engine/runtime/nodeDawn.ts');
const stopKeepAlive = await installDawn();

const adapter = await navigator.gpu.requestAdapter();
if (!adapter) throw new Error('Dawn found no WebGPU adapter (on a CPU machine set VK_ICD_FILENAMES to SwiftShader, see the header)');
const { measureSampling } = await import('./sampleMeasure.ts');
const results = [];
for (const io of ios) {
  try {
    results.push({
      io,
      ...(await measureSampling({ backend: { preference: 'webgpu', ortFlavor: 'node-webgpu', webGpuIo: io }, samplers, steps, repeats, size })),
    });
  } catch (e) {
    results.push({ io, error: String(e?.message ?? e).split('\n')[0] });
  }
  process.stderr.write(`  ${JSON.stringify(results.at(-1))}\n`);
}
stopKeepAlive();
console.log(
  JSON.stringify(
    {
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      adapter: { vendor: adapter.info.vendor, architecture: adapter.info.architecture, description: adapter.info.description },
      goal: '25-step guided sampling of one 64×64 image under 150 ms on a discrete GPU',
      note: 'msPerImage: median warm time of one guided image (text cached, sessions compiled; denoising, VAE decode, PNG). msPerStep = one UNet evaluation at batch 2 + guidance + sampler update.',
      results,
    },
    null,
    2,
  ),
);
process.exit(0);
