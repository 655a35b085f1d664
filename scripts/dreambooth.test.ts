import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunInfo } from '../src/cli/runFolder';
import { upscaledPng } from '../src/dreambooth/testing/upscaledPng';
import { readSafetensors } from '../src/model/safetensors';
import { SCRIPT_ARGS, trainShFlags } from '../src/interop/testing/diffusersScriptArgs';

// `npm run dreambooth` as a child process, on a tiny run: the built-in model, three cat emoji as the subject, two
// class images, a few steps and two sampling steps (the whole flow, each stage as short as it goes).
const root = mkdtempSync(join(tmpdir(), 'dreambooth-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const emoji = (code: string) => `node_modules/emoji-datasource-google/img/google/64/${code}.png`;
function photoDir(name: string, codes: string[]): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const c of codes) copyFileSync(emoji(c), join(dir, `${c}.png`));
  return dir;
}
const cats = photoDir('cats', ['1f431', '1f638', '1f63a']);
const TINY = [
  '--class',
  'cat',
  '--id',
  'zoqu',
  '--preset',
  'quick',
  '--class-images',
  '2',
  '--sampling-steps',
  '2',
  '--checkpoint-every',
  '2',
  '--threads',
  '1',
  '--quiet',
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `whileRunning` may act on the process (e.g. send Ctrl-C) while it runs. */
function cli(args: string[], whileRunning?: (child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dreambooth.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    whileRunning?.(child);
  });
}

const lossSteps = (out: string) =>
  readFileSync(join(out, 'loss.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; loss: number; instance_loss: number; prior_loss: number });

describe('npm run dreambooth (child process, tiny run)', () => {
  it('Ctrl-C checkpoints and exits 130; the same command resumes from that step, finishes, and is not redone', async () => {
    const out = join(root, 'run');
    const args = ['--photos', cats, '--steps', '8', '--out', out, ...TINY];
    // Interrupted once the log shows two steps.
    const first = await cli(args, (child) => {
      const poll = setInterval(() => {
        if (existsSync(join(out, 'loss.jsonl')) && lossSteps(out).length >= 2) {
          clearInterval(poll);
          child.kill('SIGINT');
        }
      }, 50);
      child.on('close', () => clearInterval(poll));
    });
    expect(first.stderr).toMatch(/Stopped at step (\d) of 8; the checkpoint is saved/);
    expect(first.code).toBe(130);
    const stoppedAt = Number(/Stopped at step (\d)/.exec(first.stderr)![1]);
    const paused = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as RunInfo;
    expect(paused).toMatchObject({ status: 'paused', step: stoppedAt, checkpoint: { step: stoppedAt } });
    expect(existsSync(join(out, 'checkpoints', `${paused.checkpoint!.id}.safetensors`))).toBe(true);
    expect(readdirSync(join(out, 'class_images')).filter((f) => f.endsWith('.png'))).toHaveLength(2);
    expect(readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.tmp'))).toEqual([]);

    const second = await cli(args);
    expect(second.code, second.stderr).toBe(0);
    const result = JSON.parse(second.stdout) as { status: string; step: number; startedAt: number };
    // On onnxruntime-node's native CPU EP, the CLI's default where it loads.
    expect(result).toMatchObject({ status: 'finished', step: 8, startedAt: stoppedAt, backend: { ep: 'cpu', kind: 'cpu' } });
    // One line per step, the interrupted session's and then the resumed one's; each loss the sum of its terms.
    const log = lossSteps(out);
    expect(log.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const l of log) expect(l.loss).toBeCloseTo(l.instance_loss + l.prior_loss, 5);
    // The loss on the run's fixed batch — from the base model at step 0, then at every checkpoint of both sessions —
    // falls: the training fits its data (the per-step loss above draws new timesteps each step, so it cannot show it).
    const fit = readFileSync(join(out, 'fit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; fixed_batch_loss: number });
    expect(fit[0]!.step).toBe(0);
    expect(fit.at(-1)!.step).toBe(8);
    expect(fit.map((f) => f.step)).toEqual([...new Set(fit.map((f) => f.step))].sort((a, b) => a - b));
    expect(fit.map((f) => f.step)).toContain(stoppedAt);
    expect(fit.at(-1)!.fixed_batch_loss).toBeLessThan(fit[0]!.fixed_batch_loss);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ status: 'finished', step: 8 });
    // The recontextualization grid: the instance prompt and six more, one 64-px tile each.
    expect(decode(readFileSync(join(out, 'samples.png')))).toMatchObject({ width: 7 * 66 + 2, height: 66 + 2 });
    expect(readdirSync(join(out, 'photos')).sort()).toEqual(['1f431.png', '1f638.png', '1f63a.png']);

    // The LoRA in both namings; sampled on its own (npm run sample --lora), it draws the grid's first tile again.
    for (const f of ['lora.safetensors', 'lora_kohya.safetensors']) expect(existsSync(join(out, f))).toBe(true);
    const sampled = join(root, 'sampled');
    const sample = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/sample.ts',
        '--lora',
        join(out, 'lora_kohya.safetensors'),
        '--prompt',
        'a photo of zoqu cat',
        '--n',
        '1',
        '--steps',
        '2',
        '--seed',
        '1234',
        '--sampler',
        'dpmpp_2m',
        '--guidance',
        '7.5',
        '--threads',
        '1',
        '--quiet',
        '--out',
        sampled,
      ],
      { encoding: 'utf8' },
    );
    expect(sample.status, sample.stderr).toBe(0);
    const tile = decode(readFileSync(join(sampled, '1234.png')));
    const grid = decode(readFileSync(join(out, 'samples.png')));
    let worst = 0;
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        for (let c = 0; c < 3; c++)
          worst = Math.max(worst, Math.abs(tile.data[(y * 64 + x) * tile.channels + c]! - grid.data[((y + 2) * grid.width + x + 2) * grid.channels + c]!));
      }
    }
    expect(worst).toBeLessThanOrEqual(2);

    const third = await cli(args);
    expect(third.code).toBe(0);
    expect(JSON.parse(third.stdout)).toMatchObject({ status: 'already-finished', step: 8 });
  }, 240_000);

  it('Ctrl-C while class images are made keeps those made; the same command makes only the rest', async () => {
    const out = join(root, 'priors');
    const args = ['--photos', cats, '--steps', '1', '--out', out, ...TINY, '--class-images', '8', '--sampling-steps', '10'];
    const pngs = () => (existsSync(join(out, 'class_images')) ? readdirSync(join(out, 'class_images')).filter((f) => f.endsWith('.png')) : []);
    // Interrupted once the first batch (4 images, one generate call) is on disk.
    const first = await cli(args, (child) => {
      const poll = setInterval(() => {
        if (pngs().length >= 4) {
          clearInterval(poll);
          child.kill('SIGINT');
        }
      }, 50);
      child.on('close', () => clearInterval(poll));
    });
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toMatch(/Stopped while making class images; the 4 made so far are saved/);
    expect(pngs()).toHaveLength(4);
    const second = await cli(args);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ classImages: { generated: 4, reused: 4 } });
    expect(pngs()).toHaveLength(8);
    const index = JSON.parse(readFileSync(join(out, 'class_images', 'index.json'), 'utf8')) as { seed: number }[];
    expect(index.map((r) => r.seed).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  }, 120_000);

  it('too few photos, a bad setting, a bad number: the message, exit 2, nothing written', async () => {
    const out = join(root, 'too-few');
    const r = await cli(['--photos', photoDir('two', ['1f431', '1f638']), '--steps', '2', '--out', out, ...TINY]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Add 1 more photo: training needs at least 3 (this subject has 2).');
    expect(existsSync(out)).toBe(false);
    // A setting out of the schema's range: the flag and the field named; a value that is no number: commander's message.
    const rank = await cli(['--photos', cats, '--lora-rank', '0', '--out', out, ...TINY]);
    expect(rank.code).toBe(2);
    expect(rank.stderr).toContain('dreambooth: --lora-rank: /loraRank must be ≥ 1');
    const steps = await cli(['--photos', cats, '--steps', 'many', '--out', out, ...TINY]);
    expect(steps.code).toBe(2);
    expect(steps.stderr).toContain("option '--steps <n>' argument 'many' is invalid. must be a whole number ≥ 0.");
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('--model personalizes another diffusers folder (diffusers’ tiny SD): its LoRA, its samples; its run is not the built-in model’s', async () => {
    const out = join(root, 'tiny-model');
    const args = ['--photos', cats, '--steps', '2', '--out', out, ...TINY];
    const r = await cli(['--model', 'fixtures/diffusers-tiny-sd', ...args]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({
      model: `folder:${resolve('fixtures/diffusers-tiny-sd')}`,
      status: 'finished',
      step: 2,
    });
    // The adapters fit the tiny UNet (64 channels where the built-in model's down_blocks.1 has 96).
    const lora = readSafetensors(new Uint8Array(readFileSync(join(out, 'lora.safetensors'))));
    expect(lora.get('unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight')?.shape).toEqual([4, 64]);
    expect(decode(readFileSync(join(out, 'samples.png')))).toMatchObject({ width: 7 * 66 + 2, height: 66 + 2 });
    // The same folder without --model names another run: the built-in model trains, rather than "nothing to do".
    const builtin = await cli(args);
    expect(builtin.code, builtin.stderr).toBe(0);
    expect(JSON.parse(builtin.stdout)).toMatchObject({ status: 'finished', startedAt: 0 });
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toMatchObject({ model: 'builtin' });
    const builtinLora = readSafetensors(new Uint8Array(readFileSync(join(out, 'lora.safetensors'))));
    expect(builtinLora.get('unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight')?.shape).toEqual([4, 96]);
    // A training job exported from this run folder ships its 64-px class images, but not to a model making larger ones.
    const exportJob = async (name: string, photos: string, model: string[]) => {
      const r = await cli([...model, '--photos', photos, '--out', out, '--export-job', join(root, name), ...TINY]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { classImages: number }).classImages;
    };
    expect(await exportJob('job-64', cats, [])).toBe(2);
    const large = join(root, 'builtin-128px');
    cpSync('models/builtin', large, { recursive: true });
    const unetConfig = JSON.parse(readFileSync(join(large, 'unet/config.json'), 'utf8')) as { sample_size: number };
    writeFileSync(join(large, 'unet/config.json'), JSON.stringify({ ...unetConfig, sample_size: 2 * unetConfig.sample_size }));
    const largeCats = join(root, 'cats-128px');
    mkdirSync(largeCats);
    for (const c of ['1f431', '1f638', '1f63a']) writeFileSync(join(largeCats, `${c}.png`), upscaledPng(readFileSync(emoji(c)), 2));
    expect(await exportJob('job-128', largeCats, ['--model', large])).toBe(0);
    // A folder missing a weights file would train random weights: refused, naming the file, nothing written.
    const configsOnly = join(root, 'configs-only');
    for (const part of ['unet', 'vae', 'text_encoder', 'scheduler']) {
      mkdirSync(join(configsOnly, part), { recursive: true });
      const config = part === 'scheduler' ? 'scheduler_config.json' : 'config.json';
      copyFileSync(join('fixtures/diffusers-tiny-sd', part, config), join(configsOnly, part, config));
    }
    const refused = await cli(['--model', configsOnly, '--photos', cats, '--out', join(root, 'never'), ...TINY]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `dreambooth: --model: ${configsOnly} has no unet/diffusion_pytorch_model.safetensors, vae/diffusion_pytorch_model.safetensors, text_encoder/model.safetensors`,
    );
    expect(existsSync(join(root, 'never'))).toBe(false);
  }, 120_000);

  it('--export-job writes a train.sh whose flags are all train_dreambooth_lora.py arguments', async () => {
    const dir = join(root, 'job');
    const r = await cli(['--photos', cats, '--export-job', dir, ...TINY]);
    expect(r.code, r.stderr).toBe(0);
    const { script, flags } = trainShFlags(readFileSync(join(dir, 'train.sh'), 'utf8'));
    expect(script).toBe('train_dreambooth_lora.py');
    for (const flag of flags.keys()) expect(SCRIPT_ARGS[script], `--${flag}`).toContain(flag);
    expect(flags.get('instance_prompt')).toBe("'a photo of zoqu cat'");
    expect(readdirSync(join(dir, 'instance_images')).sort()).toEqual(['1f431.png', '1f638.png', '1f63a.png']);
    expect(existsSync(join(dir, 'model', 'unet', 'config.json'))).toBe(true);
    // The built-in model's compact vocabulary goes out as CLIP's tokenizer, which the script's CLIPTokenizer loads.
    expect(existsSync(join(dir, 'model', 'tokenizer', 'vocab.json'))).toBe(true);
    expect(readFileSync(join(dir, 'train.sh'), 'utf8')).not.toMatch(/has no tokenizer/);
    // The identifier is one added token (as the studio binds it to one row), not BPE pieces of unknown words.
    const added = JSON.parse(readFileSync(join(dir, 'model', 'tokenizer', 'added_tokens.json'), 'utf8')) as Record<string, number>;
    expect(Object.keys(added)).toEqual(['zoqu']);
    expect(existsSync(join(dir, 'README.md'))).toBe(true);
    // A second export into the same folder is refused rather than mixed in.
    writeFileSync(join(dir, 'marker'), '');
    expect((await cli(['--photos', cats, '--export-job', dir, ...TINY])).code).toBe(2);
  }, 60_000);
});
