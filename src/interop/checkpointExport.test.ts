import { describe, expect, test } from 'vitest';
import { buildNoiseSchedule } from '../diffusion/noiseSchedule';
import { NoiseGenerator } from '../diffusion/random';
import { personalizedFolder, trainedValuesFromCheckpoint, type TrainedValues } from '../dreambooth/personalizedModel';
import { DreamBoothTrainer } from '../dreambooth/trainer';
import { presetSettings, type TrainSettings } from '../dreambooth/trainSettings';
import { builtinModelSource, loadGenerationModel, type GenerationModel } from '../generation/generationModel';
import type { ModelFolder } from '../model/folder';
import { nodeFolderReader } from '../model/nodeFolder';
import { baseModelHash } from './baseModelHash';
import { PEFT_LORA_FILE, checkpointExport } from './checkpointExport';
import { importDiffusersFolder } from './diffusersFolder';
import { importLora } from './loraFile';

const SUBJECT = { identifier: 'zovy', classNoun: 'dog' };

/** A real checkpoint of `model` after two train steps on random latents (what the file format sees is the same). */
async function checkpointOf(model: GenerationModel, over: Partial<TrainSettings>, identifierRows: number[]): Promise<Uint8Array> {
  const settings = { ...presetSettings('quick'), priorLossWeight: 0, learningRate: 1e-2, ...over };
  const c = model.latentChannels;
  const h = model.height / model.vaeFactor;
  const rng = new NoiseGenerator(3);
  const L = model.folder.textEncoder.config.max_position_embeddings;
  const textInGraph = settings.textEncoder !== 'frozen';
  const text = textInGraph
    ? BigInt64Array.from({ length: L }, (_, i) => BigInt(i < 4 ? [0, 5, identifierRows[0] ?? 7, 1][i]! : 1))
    : rng.randn(L * model.folder.textEncoder.config.hidden_size);
  const trainer = await DreamBoothTrainer.create({
    folder: model.folder,
    schedule: buildNoiseSchedule(model.schedulerConfig as Parameters<typeof buildNoiseSchedule>[0]),
    settings,
    data: { instances: [rng.randn(c * h * h)], priors: [], instanceText: text, classText: text, dataHash: 'random' },
    latentShape: [c, h, h],
    identifierRows,
    ep: 'wasm',
  });
  await trainer.trainStep();
  await trainer.trainStep();
  const { file } = await trainer.checkpoint();
  await trainer.dispose();
  return file;
}

const bitsEqual = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const tensorsOf = (f: ModelFolder, part: 'unet' | 'textEncoder') => (f[part].weights.kind === 'weights' ? f[part].weights.tensors : new Map());

function expectSameWeights(a: ModelFolder, b: ModelFolder) {
  for (const part of ['unet', 'textEncoder'] as const) {
    const [ta, tb] = [tensorsOf(a, part), tensorsOf(b, part)];
    expect([...tb.keys()].sort()).toEqual([...ta.keys()].sort());
    for (const [name, t] of ta) expect(bitsEqual(tb.get(name)!.data, t.data), name).toBe(true);
  }
}

describe('checkpointExport on real trainer checkpoints', () => {
  test('built-in model, LoRA + identifier rows → peft and kohya files that import bit-identically', { timeout: 600_000 }, async () => {
    const model = await loadGenerationModel(builtinModelSource());
    const rows = [model.folder.textEncoder.config.vocab_size - 1];
    const file = await checkpointOf(model, { unet: 'lora', textEncoder: 'identifier', loraRank: 4, loraAlpha: 4 }, rows);
    const trained: TrainedValues = trainedValuesFromCheckpoint(file);
    const hash = await baseModelHash(model.folder);
    for (const naming of ['peft', 'kohya'] as const) {
      const out = await checkpointExport(file, model.folder, SUBJECT, naming);
      expect(out.kind).toBe('lora');
      expect(out.meta).toMatchObject({ baseModel: hash, ...SUBJECT, steps: 2 });
      const loraName = naming === 'peft' ? PEFT_LORA_FILE : 'zovy_dog_lora.safetensors';
      expect([...out.files.keys()].sort()).toEqual([loraName, 'zovy.safetensors'].sort());
      const back = importLora(out.files.get(loraName)!, model.folder, hash, { embedding: out.files.get('zovy.safetensors')! });
      expect(back.values.identifierRows).toEqual(rows);
      expect([...back.values.tensors.keys()].sort()).toEqual([...trained.tensors.keys()].sort());
      for (const [name, v] of trained.tensors) expect(bitsEqual(back.values.tensors.get(name)!, v), name).toBe(true);
      expectSameWeights(personalizedFolder(model.folder, back.values), personalizedFolder(model.folder, trained));
    }
  });

  test('full UNet fine-tune (diffusers’ tiny SD) → a diffusers folder that imports to the personalized weights', { timeout: 600_000 }, async () => {
    const model = await loadGenerationModel({ id: 'tiny', revision: 'fixture', read: nodeFolderReader('fixtures/diffusers-tiny-sd') });
    const file = await checkpointOf(model, { unet: 'full', textEncoder: 'frozen' }, []);
    const out = await checkpointExport(file, model.folder, SUBJECT, 'peft', { schedulerConfig: model.schedulerConfig });
    expect(out.kind).toBe('diffusers-folder');
    const back = await importDiffusersFolder(async (path) => out.files.get(path) ?? null);
    const want = personalizedFolder(model.folder, trainedValuesFromCheckpoint(file));
    expectSameWeights(back, want);
    // The fine-tune changed the UNet: the export is not just the base model again.
    const conv = tensorsOf(model.folder, 'unet').get('conv_in.weight')!;
    expect(bitsEqual(tensorsOf(back, 'unet').get('conv_in.weight')!.data, conv.data)).toBe(false);
  });

  test('a file that is not a checkpoint is refused', async () => {
    const model = await loadGenerationModel({ id: 'tiny', revision: 'fixture', read: nodeFolderReader('fixtures/diffusers-tiny-sd') });
    await expect(checkpointExport(new Uint8Array(16), model.folder, SUBJECT, 'peft')).rejects.toThrow(/not a readable|not a studio checkpoint|safetensors/);
  });
});
