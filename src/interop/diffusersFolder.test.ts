import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { builtinModelSource, loadGenerationModel, VOCABULARY_FILE, type GenerationModel } from '../generation/generationModel';
import { WEIGHT_FILES, type FolderReader, type ModelFolder } from '../model/folder';
import { parseSafetensors, readSafetensors, writeSafetensors } from '../model/safetensors';
import { CONFIG_FILES, diffusersFolderFiles, importDiffusersFolder } from './diffusersFolder';
import { STUDIO_KEYS, STUDIO_VERSION } from './exportMetadata';
import { InteropError } from './interopError';
import { presetSettings } from '../dreambooth/trainSettings';

const BUILTIN = 'models/builtin';
const diskJson = (path: string) => JSON.parse(readFileSync(`${BUILTIN}/${path}`, 'utf8')) as Record<string, unknown>;
const reader =
  (files: ReadonlyMap<string, Uint8Array>): FolderReader =>
  async (path) =>
    files.get(path) ?? null;

let model: GenerationModel;
let files: Map<string, Uint8Array>;
const meta = {
  baseModel: 'c0'.repeat(32),
  identifier: 'zovy',
  classNoun: 'dog',
  steps: 800,
  settings: { ...presetSettings('object'), unet: 'full' as const },
  studioVersion: STUDIO_VERSION,
};

beforeAll(async () => {
  model = await loadGenerationModel(builtinModelSource());
  const vocabulary = new Uint8Array(readFileSync(`${BUILTIN}/${VOCABULARY_FILE}`));
  files = diffusersFolderFiles(model.folder, meta, { schedulerConfig: model.schedulerConfig, tokenizerFiles: new Map([[VOCABULARY_FILE, vocabulary]]) });
}, 60_000);

const tensorsOf = (f: ModelFolder, part: 'unet' | 'vae' | 'textEncoder') => (f[part].weights.kind === 'weights' ? f[part].weights.tensors : new Map());

describe('the built-in model as a diffusers folder', () => {
  test('has exactly the layout of models/builtin (the one diffusers’ from_pretrained reads)', () => {
    expect([...files.keys()].sort()).toEqual(
      [
        'model_index.json',
        'scheduler/scheduler_config.json',
        'text_encoder/config.json',
        'text_encoder/model.safetensors',
        'tokenizer/compact_vocabulary.json',
        'unet/config.json',
        'unet/diffusion_pytorch_model.safetensors',
        'vae/config.json',
        'vae/diffusion_pytorch_model.safetensors',
      ].sort(),
    );
  });

  test('config files hold every field diffusers / transformers wrote in models/builtin, with the same values', () => {
    for (const path of Object.values(CONFIG_FILES)) {
      const written = JSON.parse(new TextDecoder().decode(files.get(path)!)) as Record<string, unknown>;
      const disk = diskJson(path);
      // Version stamps say which library wrote the file and the dtype transformers loaded it in; they are not
      // architecture and the studio does not keep them.
      for (const key of Object.keys(disk).filter((k) => !['_diffusers_version', 'transformers_version', 'dtype'].includes(k))) {
        expect(written[key], `${path} ${key}`).toEqual(disk[key]);
      }
    }
  });

  test('every weight file records the studio metadata and format pt', () => {
    for (const path of Object.values(WEIGHT_FILES)) {
      const md = parseSafetensors(files.get(path)!).metadata;
      expect(md.format).toBe('pt');
      expect(md[STUDIO_KEYS.baseModel]).toBe(meta.baseModel);
      expect(md[STUDIO_KEYS.steps]).toBe('800');
      expect(md[STUDIO_KEYS.studioVersion]).toBe(STUDIO_VERSION);
    }
  });

  test('export → importDiffusersFolder gives the same tensors, bit for bit, as the files on disk', async () => {
    const back = await importDiffusersFolder(reader(files));
    for (const [part, path] of [
      ['unet', WEIGHT_FILES.unet],
      ['vae', WEIGHT_FILES.vae],
      ['textEncoder', WEIGHT_FILES.text_encoder],
    ] as const) {
      const disk = readSafetensors(readFileSync(`${BUILTIN}/${path}`), (n) => n.endsWith('position_ids'));
      const got = tensorsOf(back, part);
      expect([...got.keys()].sort(), path).toEqual([...disk.keys()].sort());
      for (const [name, t] of disk) {
        const g = got.get(name)!;
        expect(g.shape, name).toEqual(t.shape);
        expect(
          Buffer.from(g.data.buffer, g.data.byteOffset, g.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
          name,
        ).toBe(true);
      }
    }
    expect(back.unet.config).toEqual(model.folder.unet.config);
    expect(back.textEncoder.config).toEqual(model.folder.textEncoder.config);
  });
});

describe('folders the studio cannot run are refused with the file and field', () => {
  const refusal = async (edit: (f: Map<string, Uint8Array>) => void) => {
    const copy = new Map(files);
    edit(copy);
    try {
      await importDiffusersFolder(reader(copy));
    } catch (e) {
      expect(e).toBeInstanceOf(InteropError);
      return (e as InteropError).message;
    }
    throw new Error('expected an InteropError');
  };
  const withJson = (path: string, change: (j: Record<string, unknown>) => void) => (f: Map<string, Uint8Array>) => {
    const j = JSON.parse(new TextDecoder().decode(f.get(path)!)) as Record<string, unknown>;
    change(j);
    f.set(path, new TextEncoder().encode(JSON.stringify(j)));
  };

  test('an unsupported config field', async () => {
    expect(await refusal(withJson('unet/config.json', (j) => (j.attention_type = 'gated')))).toMatch(
      /^unet\/config\.json: "attention_type": "gated" is not supported/,
    );
  });

  test('components that do not fit each other', async () => {
    expect(await refusal(withJson('text_encoder/config.json', (j) => (j.hidden_size = 256)))).toMatch(
      /cross_attention_dim 192 differs from the text encoder's hidden_size 256/,
    );
  });

  test('a missing weight file', async () => {
    expect(await refusal((f) => f.delete(WEIGHT_FILES.vae))).toBe(
      'vae/diffusion_pytorch_model.safetensors: is missing: the studio imports trained models only',
    );
  });

  test('a weight the architecture does not have, or of the wrong shape', async () => {
    const message = await refusal((f) => {
      const t = readSafetensors(f.get(WEIGHT_FILES.unet)!);
      t.set('conv_in.weight', { shape: [64, 4, 1, 1], data: new Float32Array(256) });
      t.set('extra.weight', { shape: [1], data: new Float32Array(1) });
      f.set(WEIGHT_FILES.unet, writeSafetensors(t));
    });
    expect(message).toMatch(/^unet\/diffusion_pytorch_model\.safetensors: unet weights: .*conv_in\.weight.*\[64,4,1,1\].*unexpected tensor "extra\.weight"/);
  });
});
