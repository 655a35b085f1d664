import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { readPngParameters } from '../src/export/pngImage';

const sample = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/sample.ts', '--threads', '1', '--quiet', ...args], { encoding: 'utf8' });

describe('npm run sample (child process)', () => {
  it('makes PNGs with the studio’s generation parameters from a diffusers model folder, and a grid', () => {
    const out = mkdtempSync(join(tmpdir(), 'sample-'));
    const r = sample([
      '--model',
      'models/builtin',
      '--prompt',
      'a photo of a cat',
      '--n',
      '2',
      '--steps',
      '2',
      '--seed',
      '7',
      '--sampler',
      'ddim',
      '--guidance',
      '5',
      '--out',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    for (const seed of [7, 8]) {
      const png = new Uint8Array(readFileSync(join(out, `${seed}.png`)));
      expect(decode(png)).toMatchObject({ width: 64, height: 64 });
      const parameters = readPngParameters(png)!;
      expect(parameters).toMatch(/^a photo of a cat\n/);
      expect(parameters).toContain(`Steps: 2, Sampler: DDIM, CFG scale: 5, Seed: ${seed}`);
    }
    expect(decode(readFileSync(join(out, 'grid.png')))).toMatchObject({ width: 2 * 66 + 2, height: 66 + 2 });
  }, 60_000);

  it('a file that is not a LoRA for this model is refused naming the file and the key', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sample-')), 'out');
    const r = sample(['--prompt', 'a cat', '--lora', 'models/builtin/vae/diffusion_pytorch_model.safetensors', '--steps', '1', '--n', '1', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^sample: --lora models\/builtin\/vae\/diffusion_pytorch_model\.safetensors: .*not a LoRA tensor name/m);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('a value the studio refuses exits 2 naming the field, and writes nothing', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sample-')), 'out');
    const r = sample(['--prompt', 'a cat', '--guidance', '1000', '--steps', '1', '--n', '1', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^sample: --guidance: .*guidanceScale must be ≤ 100/m);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
