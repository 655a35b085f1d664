import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { presetSettings } from '../dreambooth/trainSettings';
import { explainWriteError, writeFileAtomic } from './atomicFile';
import { settingsFromFlags } from './trainFlags';

describe('training flags → settings', () => {
  it('a preset, then the flags given; the LoRA alpha follows the rank; no previews during training', () => {
    expect(settingsFromFlags({ preset: 'pet' })).toEqual({ ...presetSettings('pet'), validationEvery: 0 });
    expect(settingsFromFlags({ preset: 'quick', steps: 7, loraRank: 2, seed: 9, lr: 3e-4 })).toMatchObject({
      steps: 7,
      loraRank: 2,
      loraAlpha: 2,
      seed: 9,
      learningRate: 3e-4,
    });
    expect(settingsFromFlags({ preset: 'quick', priorLossWeight: 0 })).toMatchObject({ priorLossWeight: 0, classImages: 0 });
  });

  it('refuses bad values naming the flag and the schema field', () => {
    expect(() => settingsFromFlags({ preset: 'quick', loraRank: 0 })).toThrow('--lora-rank: /loraRank must be ≥ 1');
    expect(() => settingsFromFlags({ preset: 'quick', steps: 0 })).toThrow(/^--steps: \/steps must be/);
    expect(() => settingsFromFlags({ preset: 'quick', lr: 1 })).toThrow(/^--lr: \/learningRate must be/);
  });
});

describe('atomic writes', () => {
  it('a failed write leaves neither the file nor its temp file; a full disk is said as such', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    writeFileAtomic(join(dir, 'a.json'), '{}');
    mkdirSync(join(dir, 'taken'));
    // Renaming a file over a folder fails: the temp file goes again.
    expect(() => writeFileAtomic(join(dir, 'taken'), 'x')).toThrow();
    expect(readdirSync(dir).sort()).toEqual(['a.json', 'taken']);
    const full = explainWriteError(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), '/out/x.safetensors');
    expect(full).toMatchObject({ exitCode: 1, message: expect.stringMatching(/^the disk is full: \/out\/x\.safetensors could not be written/) });
  });
});
