/**
 * The exported LoRA files, loaded by an independent PyTorch UNet2DConditionModel (scripts/torch/lora_check.py, written
 * from diffusers' module structure and loading diffusers' parameter names strictly) and merged as peft / kohya merge
 * them, reproduce the studio's UNet output. Runs only where a python3 with PyTorch is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { NoiseGenerator } from '../diffusion/random';
import { personalizedFolder } from '../dreambooth/personalizedModel';
import { presetSettings } from '../dreambooth/trainSettings';
import { builtinModelSource, loadGenerationModel } from '../generation/generationModel';
import { InferenceBackend } from '../generation/inferenceBackend';
import { buildUNetGraph } from '../model/graphs';
import { writeSafetensors } from '../model/safetensors';
import { diffusersFolderFiles } from './diffusersFolder';
import { STUDIO_VERSION } from './exportMetadata';
import { baseModelHash, exportLora, importLora, type LoraNaming } from './loraFile';
import { loraValues } from './testing/loraValues';
import { torchPython } from './testing/torchPython';

const found = torchPython();
const python = 'python' in found ? found.python : '';
const TOLERANCE = 1e-4;

describe.skipIf('reason' in found)(`PyTorch reference${'reason' in found ? ` — skipped: ${found.reason}` : ''}`, () => {
  test('the reference UNet itself reproduces diffusers’ outputs (diffusers’ tiny SD, reference_io.json)', { timeout: 120_000 }, () => {
    const r = spawnSync(python, ['scripts/torch/lora_check.py', '--diffusers-reference', 'fixtures/diffusers-tiny-sd'], { encoding: 'utf8', timeout: 100_000 });
    expect(r.status, r.stderr).toBe(0);
    // reference_io.json stores diffusers' outputs rounded to 6 decimals.
    expect((JSON.parse(r.stdout) as { max_abs_diff: number }).max_abs_diff).toBeLessThan(1e-5);
  });

  test.each<LoraNaming>(['peft', 'kohya'])('%s LoRA merged in PyTorch reproduces the studio’s UNet output', { timeout: 300_000 }, async (naming) => {
    const model = await loadGenerationModel(builtinModelSource());
    const base = model.folder;
    const c = base.unet.config;
    const L = base.textEncoder.config.max_position_embeddings;
    const values = loraValues(base, { rank: 4, alpha: 8, seed: 11 });
    const hash = await baseModelHash(base);
    const meta = { baseModel: hash, identifier: 'zovy', classNoun: 'dog', steps: 1, settings: presetSettings('quick'), studioVersion: STUDIO_VERSION };
    const { lora } = exportLora(values, meta, naming);

    // The studio's output: the base model with the LoRA read back from the file, merged, on the wasm EP.
    const rng = new NoiseGenerator(5);
    const size = c.sample_size!;
    const inputs = {
      sample: { shape: [1, c.in_channels, size, size], data: rng.randn(c.in_channels * size * size) },
      timestep: { shape: [1], data: Float32Array.of(481) },
      encoder_hidden_states: { shape: [1, L, c.cross_attention_dim], data: rng.randn(L * c.cross_attention_dim) },
    };
    const merged = personalizedFolder(base, importLora(lora, base, hash).values);
    const backend = await InferenceBackend.open({ preference: 'wasm' });
    const session = await backend.createSession(buildUNetGraph(merged.unet.config, merged.unet.weights, { batch: 1, textLength: L }).graph);
    const feeds = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, new backend.ort.Tensor('float32', t.data, t.shape)]));
    const out = (await (await session.run(feeds)).out_sample!.getData()) as Float32Array;
    await session.release();

    const dir = mkdtempSync(join(tmpdir(), 'lora-check-'));
    try {
      // The base UNet as the studio's diffusers-folder export writes it: PyTorch loads it with strict names.
      for (const [path, bytes] of diffusersFolderFiles(base)) {
        if (!path.startsWith('unet/')) continue;
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), bytes);
      }
      writeFileSync(join(dir, 'lora.safetensors'), lora);
      const io = new Map(Object.entries(inputs).map(([k, t]) => [`input.${k}`, t]));
      io.set('studio.out_sample', { shape: [1, c.out_channels, size, size], data: out });
      writeFileSync(join(dir, 'io.safetensors'), writeSafetensors(io));
      const r = spawnSync(
        python,
        ['scripts/torch/lora_check.py', '--folder', dir, '--lora', join(dir, 'lora.safetensors'), '--io', join(dir, 'io.safetensors')],
        {
          encoding: 'utf8',
          timeout: 240_000,
        },
      );
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { naming: string; adapters: number; max_abs_diff: number; lora_effect: number; output_max_abs: number };
      expect(report.naming).toBe(naming);
      expect(report.adapters).toBe(values.adapters.length);
      expect(report.max_abs_diff).toBeLessThan(TOLERANCE);
      // The LoRA moves the output far more than the tolerance, so the comparison would see a lost or wrong merge.
      expect(report.lora_effect).toBeGreaterThan(100 * TOLERANCE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
