#!/usr/bin/env node
/**
 * Train-step benchmark on a GPU without a browser: Dawn for Node (npm `webgpu`) drives the same
 * onnxruntime-web WebGPU EP, ProgramRuntime and train-step graphs as the browser (recipe: gpu.md in the
 * project brief). Prints JSON like `npm run bench:train`.
 *
 *   In the repo (tsx loads the TypeScript sources):
 *     node --import tsx bench/train-gpu.mjs [--networks=reference,unet] [--steps=N] [--wasm]
 *   On this CPU-only machine, against Chromium's SwiftShader Vulkan driver:
 *     VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium \
 *       node --import tsx bench/train-gpu.mjs --networks=tiny
 *   On a GPU machine without Node or network: `bash bench/gpu-kit.sh` packs bench/gpu-kit/kit.tar.xz
 *   (node, dawn.node, onnxruntime-web files, Vulkan loader .debs, this script bundled); unpack it
 *   there and run `./run.sh train-gpu.mjs`.
 */

const args = process.argv.slice(2);
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const networks = option('networks', 'reference,unet').split(',');
const steps = Number(option('steps', '10'));

const { installDawn } = await import('../src/engine/runtime/nodeDawn.ts');
await installDawn();
const { buildStep } = await import('./networks.ts');
const { ProgramRuntime } = await import('../src/engine/runtime/programRuntime.ts');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 10) / 10;

async function measure(network, ep, io) {
  const s = buildStep(network);
  const t0 = performance.now();
  const rt = await ProgramRuntime.create({
    ep,
    io: ep === 'webgpu' ? io : undefined,
    programs: [s.program],
    state: s.initialState,
    ortFlavor: ep === 'webgpu' ? 'node-webgpu' : 'auto',
    threads: ep === 'wasm' ? (await import('node:os')).cpus().length : undefined,
  });
  const sessionMs = performance.now() - t0;
  const times = [];
  const losses = [];
  for (let t = 1; t <= 2 + steps; t++) {
    const a = performance.now();
    const { metrics } = await rt.run('step', s.feeds(t));
    if (t > 2) times.push(performance.now() - a);
    losses.push(metrics[0]);
  }
  await rt.dispose();
  return {
    network,
    ep,
    io: ep === 'webgpu' ? io : undefined,
    nodes: s.program.runtimeNodeCount,
    msPerStep: round(median(times)),
    msPerStepAll: times.map(round),
    sessionMs: round(sessionMs),
    firstLoss: losses[0],
    lastLoss: losses[losses.length - 1],
    backend: rt.backend,
  };
}

const results = [];
for (const network of networks) {
  for (const io of ['ort', 'gpu', 'capture']) {
    try {
      results.push(await measure(network, 'webgpu', io));
    } catch (e) {
      results.push({ network, ep: 'webgpu', io, error: String(e?.message ?? e).split('\n')[0] });
    }
    process.stderr.write(`  ${JSON.stringify(results[results.length - 1])}\n`);
  }
  if (args.includes('--wasm')) results.push(await measure(network, 'wasm'));
}
const { cpus } = await import('node:os');
console.log(JSON.stringify({ machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version }, timedSteps: steps, results }, null, 2));
process.exit(0);
