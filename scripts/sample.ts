/**
 * Images from the studio's generation pipeline on the command line (src/cli/sampleRun.ts):
 *
 *   npm run sample -- --prompt "a photo of zoqu cat on the beach" [--model DIR] [--lora FILE [--embedding FILE]] [--n 4] [--steps 25] [--seed S]
 *                     [--sampler dpmpp_2m|ddim|euler_a] [--guidance 7.5] [--ep cpu|wasm | --webgpu] --out DIR
 *
 * Writes <seed>.png per image (with the studio's generation parameters in a PNG text chunk) and grid.png.
 * Exit codes: 0 done, 1 failed, 2 bad arguments.
 */
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { runCommand } from '../src/cli/cliError';
import { defaultCliBackend, type CliBackend } from '../src/cli/generationService';
import { runSample, type SampleOptions } from '../src/cli/sampleRun';
import { SAMPLER_NAMES } from '../src/diffusion/schedulerConfigSchema';
import { finiteNumber, wholeNumber } from '../src/cli/flagParsers';

const program = new Command('sample')
  .description("make images with the studio's generation pipeline")
  .requiredOption('--prompt <text>', 'what to draw')
  .option('--negative-prompt <text>', 'what to steer away from', '')
  .option('--model <dir>', 'a diffusers model folder (default: the built-in model)')
  .option('--lora <file>', 'a LoRA file to apply (peft or kohya naming, e.g. an npm run dreambooth lora.safetensors)')
  .option('--embedding <file>', "the identifier's embedding file that came with the LoRA (<identifier>.safetensors)")
  .requiredOption('--out <dir>', 'where the PNGs go')
  .option('--n <n>', 'images (seeds seed … seed+n−1)', wholeNumber, 4)
  .option('--steps <n>', 'denoising steps', wholeNumber, 25)
  .option('--seed <n>', 'seed of the first image', wholeNumber, 0)
  .addOption(new Option('--sampler <name>', 'sampler').choices([...SAMPLER_NAMES]).default('dpmpp_2m'))
  .option('--guidance <x>', 'classifier-free guidance scale', finiteNumber, 7.5)
  .addOption(new Option('--ep <ep>', "CPU backend (default: onnxruntime-node's native CPU EP when it loads, else wasm)").choices(['cpu', 'wasm']))
  .option('--webgpu', 'run on a GPU through Dawn (npm webgpu; Node on a GPU server) instead of the CPU')
  .option('--threads <n>', 'CPU threads (default: every core)', wholeNumber, availableParallelism())
  .option('--quiet', 'no progress output')
  // Bad arguments exit 2, as the tool's other refusals of its input do (commander's own code is 1).
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
  .parse();

const o = program.opts<Omit<SampleOptions, 'backend' | 'quiet'> & { ep?: CliBackend; webgpu?: boolean; quiet?: boolean }>();
await runCommand('sample', async () => runSample({ ...o, backend: o.webgpu ? 'webgpu' : (o.ep ?? (await defaultCliBackend())), quiet: Boolean(o.quiet) }));
