/**
 * DreamBooth from the command line, with the studio's own code (src/cli/dreamboothRun.ts):
 *
 *   npm run dreambooth -- --photos DIR --class dog [--id zoqu] [--preset quick|object|pet] [--steps N] [--lora-rank R]
 *                         [--seed S] [--ep cpu|wasm | --webgpu] --out DIR
 *   npm run dreambooth -- --photos DIR --class dog --id zoqu [settings] --export-job DIR   (a diffusers training job)
 *
 * Resumable: running the same command again continues from the last checkpoint in --out; a finished run is not
 * redone. Ctrl-C checkpoints and exits (130); a second Ctrl-C exits at once (files are only ever replaced whole).
 * Exit codes: 0 done, 1 failed, 2 bad arguments or photos (nothing written), 130 interrupted.
 */
import 'fake-indexeddb/auto';
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { CliError, runCommand } from '../src/cli/cliError';
import { defaultCliBackend, type CliBackend } from '../src/cli/generationService';
import { runDreamBooth } from '../src/cli/dreamboothRun';
import { exportTrainingJob } from '../src/cli/exportJob';
import { RunFolder } from '../src/cli/runFolder';
import { settingsFromFlags, type SettingFlags } from '../src/cli/trainFlags';
import { DEFAULT_PRESET, PRESETS } from '../src/dreambooth/trainSettings';
import { suggestIdentifier } from '../src/subjects/identifier';
import { checkClassNoun, checkIdentifier } from '../src/subjects/subjectRules';
import { finiteNumber, wholeNumber } from '../src/cli/flagParsers';

const program = new Command('dreambooth')
  .description("personalize the studio's model to a subject from 3–5 photos (resumable)")
  .option('--model <dir>', "diffusers model folder to personalize (default: the studio's built-in model)")
  .requiredOption('--photos <dir>', 'folder of 3–5 photos of the subject (JPEG, PNG, WebP or GIF)')
  .requiredOption('--class <noun>', 'what the subject is, e.g. "dog" or "plush toy"')
  .option('--id <word>', 'the rare word bound to the subject (default: the one in --out, else a new suggestion)')
  .option('--out <dir>', 'run folder: class images, checkpoints, loss.jsonl, samples.png (resumable)')
  .option('--export-job <dir>', "write a diffusers training job (train.sh for diffusers' train_dreambooth_lora.py) instead of training")
  .addOption(new Option('--preset <id>', 'settings preset').choices(PRESETS.map((p) => p.id)).default(DEFAULT_PRESET))
  .option('--steps <n>', 'training steps', wholeNumber)
  .option('--lr <x>', 'learning rate', finiteNumber)
  .option('--lora-rank <r>', 'LoRA rank (alpha follows it)', wholeNumber)
  .option('--seed <n>', 'seed of data order, timesteps and noise', wholeNumber)
  .option('--class-images <n>', 'class images for prior preservation', wholeNumber)
  .option('--prior-loss-weight <x>', 'weight of the prior-preservation loss (0: no class images)', finiteNumber)
  .option('--sampling-steps <n>', 'sampler steps for class images and samples', wholeNumber)
  .option('--checkpoint-every <n>', 'save a checkpoint every N steps', wholeNumber)
  .addOption(new Option('--unet <what>', 'train LoRA adapters or every UNet weight').choices(['lora', 'full']))
  .addOption(new Option('--text-encoder <what>', 'text encoder training').choices(['frozen', 'identifier', 'full']))
  .addOption(new Option('--ep <ep>', "CPU backend (default: onnxruntime-node's native CPU EP when it loads, else wasm)").choices(['cpu', 'wasm']))
  .option('--webgpu', 'run on a GPU through Dawn (npm webgpu; Node on a GPU server) instead of the CPU')
  .option('--threads <n>', 'CPU threads (default: every core)', wholeNumber, availableParallelism())
  .option('--quiet', 'no progress output')
  // Bad arguments exit 2, as the tool's other refusals of its input do (commander's own code is 1).
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
  .parse();

type Flags = SettingFlags & {
  model?: string;
  photos: string;
  class: string;
  id?: string;
  out?: string;
  exportJob?: string;
  ep?: CliBackend;
  webgpu?: boolean;
  threads: number;
  quiet?: boolean;
};
const o = program.opts<Flags>();

const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  console.error('\nStopping: saving a checkpoint after this step (Ctrl-C again to quit now; the last checkpoint is kept).');
  interrupt.abort();
});

await runCommand('dreambooth', async () => {
  if (!o.out && !o.exportJob) throw new CliError('give --out DIR (train) or --export-job DIR (write a diffusers training job)', 2);
  const settings = settingsFromFlags(o);
  const classProblem = checkClassNoun(o.class);
  if (classProblem) throw new CliError(`--class: ${classProblem}`, 2);
  const identifier = (o.id ?? (o.out && new RunFolder(o.out).readInfo()?.subject.identifier) ?? suggestIdentifier([])).trim().toLowerCase();
  const idProblem = checkIdentifier(identifier, o.class, []);
  if (idProblem) throw new CliError(`--id: ${idProblem}`, 2);
  const common = {
    ...(o.model ? { model: o.model } : {}),
    photos: o.photos,
    classNoun: o.class.trim(),
    identifier,
    settings,
    backend: o.webgpu ? ('webgpu' as const) : (o.ep ?? (await defaultCliBackend())),
    threads: o.threads,
    quiet: Boolean(o.quiet),
  };
  const result = o.exportJob
    ? await exportTrainingJob({ ...common, dir: o.exportJob, ...(o.out ? { runDir: o.out } : {}) })
    : await runDreamBooth({ ...common, out: o.out! }, interrupt.signal);
  return result;
});
