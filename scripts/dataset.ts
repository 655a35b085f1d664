/**
 * Builds the captioned 64×64 pretraining set from emoji artwork in npm packages (nothing is downloaded).
 *
 *   npm run dataset [-- --out data/emoji64]
 */
import { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { buildDataset } from '../src/pretrain/datasetBuilder';

const opts = new Command('dataset')
  .description('build the captioned pretraining image set')
  .option('--out <dir>', 'output folder', 'data/emoji64')
  .parse()
  .opts<{ out: string }>();

const bar = new SingleBar({ format: 'images {bar} {value}/{total} | {eta_formatted} left' });
let started = false;
const m = buildDataset(opts.out, (done, total) => {
  if (!started) {
    bar.start(total, 0);
    started = true;
  }
  bar.update(done);
});
bar.stop();
console.log(
  JSON.stringify(
    { out: opts.out, count: m.count, train: m.counts.train, validation: m.counts.validation, sources: m.sources, byCategory: m.counts.byCategory },
    null,
    2,
  ),
);
