/**
 * Measures the built-in base model (JSON on stdout, also written to <model>/eval.json):
 * - VAE reconstruction PSNR over the dataset's validation split (64×64, 8-bit output);
 * - prompt fidelity: for each of the fixed categories (src/pretrain/evalCategories.ts), N samples of its prompt,
 *   and the share the independent scorer (nearest real image by hand-made features) assigns to the prompted
 *   category, beside chance and the scorer's own held-out accuracy on real images;
 * - diversity within a prompt (mean pairwise feature distance), beside the same for the real images;
 * - a sample grid of the fixed prompts (<model>/samples.png), one row per two prompts.
 *
 *   npm run eval:base [-- --model models/builtin --n 4 --steps 20]
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadModelFolder } from '../src/model/folder';
import { nodeFolderReader } from '../src/model/nodeFolder';
import { CategoryScorer, diversity, heldOutAccuracy, type LabelledImage } from '../src/pretrain/categoryScorer';
import { loadDataset } from '../src/pretrain/dataset';
import { EVAL_CATEGORIES } from '../src/pretrain/evalCategories';
import { writeGrid } from '../src/pretrain/imageGrid';
import { fastestNodeEp } from '../src/pretrain/nodeSession';
import { samplePrompts } from '../src/pretrain/sampling';
import { measureVae } from '../src/pretrain/vaeQuality';

const o = new Command('eval:base')
  .description('measure the base model: VAE PSNR, prompt fidelity, diversity, sample grid')
  .option('--model <dir>', 'model folder', 'models/builtin')
  .option('--data <dir>', 'dataset built by `npm run dataset`', 'data/emoji64')
  .option('--n <n>', 'samples per prompt', (v) => parseInt(v, 10), 4)
  .option('--steps <n>', 'sampling steps (DPM++ 2M)', (v) => parseInt(v, 10), 20)
  .option('--guidance <x>', 'classifier-free guidance scale', parseFloat, 5)
  .option('--seed <n>', 'seed of the first sample of each prompt', (v) => parseInt(v, 10), 1000)
  .option('--threads <n>', 'CPU threads', (v) => parseInt(v, 10), availableParallelism())
  .parse()
  .opts<{ model: string; data: string; n: number; steps: number; guidance: number; seed: number; threads: number }>();

const ds = loadDataset(o.data);
const model = await loadModelFolder(nodeFolderReader(o.model));
if (model.untrained) throw new Error(`${o.model} has untrained components: run the pretraining first (models/builtin/README.md)`);
const ep = await fastestNodeEp();
const size = ds.manifest.size;
const bytes = size * size * 3;
const rgbOf = (i: number) => ds.pixels.subarray(i * bytes, (i + 1) * bytes);

const validation = ds.manifest.entries.flatMap((e, i) => (e.split === 'validation' ? [i] : []));
const vae = await measureVae(model.vae.config, model.vae.weights, ds, validation, ep, o.threads, 0);

const real: LabelledImage[] = ds.manifest.entries.flatMap((e, i) => {
  const c = EVAL_CATEGORIES.find((c) => c.names.includes(e.name));
  return c ? [{ label: c.label, group: e.source, rgb: rgbOf(i) }] : [];
});
const scorer = CategoryScorer.fit(real);
const heldOut = heldOutAccuracy(real);

const source = { id: 'builtin', revision: 'eval', read: nodeFolderReader(o.model) };
const samples = await samplePrompts(
  source,
  EVAL_CATEGORIES.map((c) => c.prompt),
  o.n,
  o.seed,
  { sampler: 'dpmpp_2m', steps: o.steps, guidanceScale: o.guidance, threads: o.threads },
);
const perCategory = EVAL_CATEGORIES.map((c, k) => {
  const predicted = samples[k]!.map((im) => scorer.classify(im));
  return {
    category: c.label,
    prompt: c.prompt,
    recognized: predicted.filter((p) => p === c.label).length / predicted.length,
    predicted,
    diversity: Number(diversity(scorer, samples[k]!).toFixed(3)),
    realDiversity: Number(
      diversity(
        scorer,
        real.filter((r) => r.label === c.label).map((r) => r.rgb),
      ).toFixed(3),
    ),
  };
});
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
writeGrid(join(o.model, 'samples.png'), samples.flat(), size, 2 * o.n);

const report = {
  model: o.model,
  vae: { validation_psnr_db: Number(vae.psnr.toFixed(2)), images: vae.images },
  fidelity: {
    top1: Number(mean(perCategory.map((c) => c.recognized)).toFixed(3)),
    chance: Number((1 / EVAL_CATEGORIES.length).toFixed(3)),
    categories: EVAL_CATEGORIES.length,
    samplesPerPrompt: o.n,
    sampler: { name: 'dpmpp_2m', steps: o.steps, guidance: o.guidance, seeds: `${o.seed}…${o.seed + o.n - 1}` },
    scorer: {
      kind: 'nearest real image, cosine of standardized colour-layout + gradient-orientation + palette features',
      referenceImages: real.length,
      heldOutAccuracy: {
        mean: Number(heldOut.mean.toFixed(3)),
        byArtwork: Object.fromEntries(Object.entries(heldOut.byGroup).map(([k, v]) => [k, Number(v.toFixed(3))])),
      },
    },
  },
  diversity: {
    samples: Number(mean(perCategory.map((c) => c.diversity)).toFixed(3)),
    real: Number(mean(perCategory.map((c) => c.realDiversity)).toFixed(3)),
  },
  perCategory,
};
writeFileSync(join(o.model, 'eval.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
