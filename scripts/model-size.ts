/**
 * Prints parameter counts, float32 sizes and inference-graph node counts of a diffusers model
 * folder (default: the built-in model), and optionally times one UNet call on the wasm EP.
 *
 *   npx tsx scripts/model-size.ts [folder] [--time]
 */
import { type GraphBuilder } from '../src/engine/graph';
import { createWasmSession, runSession } from '../src/engine/graph/runWasm';
import { loadModelFolder } from '../src/model/folder';
import { buildTextEncoderGraph, buildUNetGraph, buildVAEDecoderGraph, buildVAEEncoderGraph, nodeCounts } from '../src/model/graphs';
import { nodeFolderReader } from '../src/model/nodeFolder';

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--')) ?? 'models/builtin';
const model = await loadModelFolder(nodeFolderReader(dir));
const { unet, vae, textEncoder } = model;
const latent = unet.config.sample_size ?? 64;
const f = 2 ** (vae.config.block_out_channels.length - 1);

const graphs: [string, GraphBuilder][] = [
  ['text_encoder', buildTextEncoderGraph(textEncoder.config, textEncoder.weights, { batch: 2 }).graph],
  ['unet', buildUNetGraph(unet.config, unet.weights, { batch: 2, textLength: textEncoder.config.max_position_embeddings }).graph],
  ['vae_encoder', buildVAEEncoderGraph(vae.config, vae.weights, { batch: 1, height: latent * f, width: latent * f }).graph],
  ['vae_decoder', buildVAEDecoderGraph(vae.config, vae.weights, { batch: 1, height: latent, width: latent }).graph],
];

const count = (g: GraphBuilder) => g.parameters().reduce((n, p) => n + p.tensor.size, 0);
const mb = (n: number) => ((n * 4) / 2 ** 20).toFixed(1);
console.log(`${dir}${model.untrained ? ' (untrained: seeded random weights)' : ''}`);
console.log('graph          params        float32 MiB  nodes (runtime)');
let total = 0;
for (const [name, g] of graphs) {
  const n = count(g);
  // The VAE's encoder and decoder graphs each hold their own half of the weights.
  total += n;
  const c = nodeCounts(g);
  console.log(`${name.padEnd(14)} ${n.toLocaleString('en').padStart(12)}  ${mb(n).padStart(11)}  ${c.total} (${c.runtime})`);
}
console.log(`${'total'.padEnd(14)} ${total.toLocaleString('en').padStart(12)}  ${mb(total).padStart(11)}`);
console.log(`latents ${unet.config.in_channels}×${latent}×${latent} ↔ images ${vae.config.out_channels}×${latent * f}×${latent * f}`);

if (args.includes('--time')) {
  const g = graphs[1]![1];
  const session = await createWasmSession(g);
  const feeds = Object.fromEntries(g.inputs.map((t) => [t.name, new Float32Array(t.size).fill(0.5)]));
  await runSession(session, g, feeds);
  const t0 = performance.now();
  const runs = 3;
  for (let i = 0; i < runs; i++) await runSession(session, g, feeds);
  console.log(`unet batch 2 on wasm (1 thread): ${((performance.now() - t0) / runs).toFixed(0)} ms per call`);
}
