/**
 * The built-in model's exports, read the way diffusers reads them — CLIPTokenizer from tokenizer/, CLIPTextModel from
 * text_encoder/, `load_textual_inversion` for the LoRA path's embedding — by an independent PyTorch tokenizer and text
 * model (scripts/torch/clip_text_check.py), give the studio's text embeddings of a prompt with the identifier. Runs only
 * where a python3 with PyTorch is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { presetSettings } from '../dreambooth/trainSettings';
import { runGraph } from '../engine/graph/runWasm';
import { builtinModelSource, loadGenerationModel } from '../generation/generationModel';
import { buildTextEncoderGraph } from '../model/graphs';
import { writeSafetensors } from '../model/safetensors';
import { ClipTokenizer } from '../text/clipTokenizer';
import { diffusersFolderFiles } from './diffusersFolder';
import { exportEmbedding } from './embeddingFile';
import { STUDIO_VERSION } from './exportMetadata';
import { withTrainedIdentifier } from './testing/trainedIdentifier';
import { torchPython } from './testing/torchPython';

const found = torchPython();
const python = 'python' in found ? found.python : '';
const TOLERANCE = 1e-4;
const IDENTIFIER = 'zovy';
const PROMPT = `a photo of ${IDENTIFIER} dog, on the beach — at 3:45pm! (quixotic xylophones)`;

describe.skipIf('reason' in found)(`PyTorch CLIP text side${'reason' in found ? ` — skipped: ${found.reason}` : ''}`, () => {
  test('the reference CLIPTextModel itself reproduces transformers’ outputs (diffusers’ tiny SD, reference_io.json)', { timeout: 60_000 }, () => {
    const r = spawnSync(python, ['scripts/torch/clip_text_check.py', '--transformers-reference', 'fixtures/diffusers-tiny-sd'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { max_abs_diff: number }).max_abs_diff).toBeLessThan(1e-5);
  });

  test('the full export, and the base export + the identifier’s embedding, give the studio’s text embeddings', { timeout: 240_000 }, async () => {
    const model = await loadGenerationModel(builtinModelSource());
    const { folder: trained, vocabulary, row, embedding } = withTrainedIdentifier(model.folder, model.vocabulary!, IDENTIFIER, 7);
    const { graph } = buildTextEncoderGraph(trained.textEncoder.config, trained.textEncoder.weights, { batch: 1 });
    const compactIds = vocabulary.tokenize(PROMPT, ClipTokenizer.shared()).ids;
    const studio = (await runGraph(graph, { input_ids: BigInt64Array.from(compactIds, BigInt) })).last_hidden_state as Float32Array;

    const dir = mkdtempSync(join(tmpdir(), 'clip-text-check-'));
    const write = (path: string, bytes: Uint8Array) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), bytes);
    };
    const check = (folder: string, ...extra: string[]) => {
      const r = spawnSync(
        python,
        ['scripts/torch/clip_text_check.py', '--folder', join(dir, folder), '--prompt', PROMPT, '--io', join(dir, 'io.safetensors'), ...extra],
        {
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { ids: number[]; max_abs_diff: number };
    };
    try {
      const { hidden_size: dim, max_position_embeddings: length } = trained.textEncoder.config;
      write('io.safetensors', writeSafetensors(new Map([['studio.last_hidden_state', { shape: [1, length, dim], data: studio }]])));
      const textSide = (path: string) => path === 'model_index.json' || path.startsWith('tokenizer/') || path.startsWith('text_encoder/');
      for (const [path, bytes] of diffusersFolderFiles(trained, undefined, { vocabulary })) if (textSide(path)) write(`full/${path}`, bytes);
      for (const [path, bytes] of diffusersFolderFiles(model.folder, undefined, { vocabulary: model.vocabulary! }))
        if (textSide(path)) write(`base/${path}`, bytes);
      const meta = {
        baseModel: 'c0'.repeat(32),
        identifier: IDENTIFIER,
        classNoun: 'dog',
        steps: 1,
        settings: presetSettings('quick'),
        studioVersion: STUDIO_VERSION,
      };
      write(`${IDENTIFIER}.safetensors`, exportEmbedding(embedding, [row], meta));

      const tokenized = ClipTokenizer.shared().tokenize(PROMPT, { addedTokens: new Map([[IDENTIFIER, 49408]]) });
      const expectedIds = Array.from(tokenized.ids.subarray(0, tokenized.length));
      const full = check('full');
      const lora = check('base', '--embedding', join(dir, `${IDENTIFIER}.safetensors`), '--token', IDENTIFIER);
      console.log(`PyTorch vs studio last_hidden_state: full export ${full.max_abs_diff}, base + embedding ${lora.max_abs_diff}`);
      for (const r of [full, lora]) {
        expect(r.ids).toEqual(expectedIds);
        expect(r.ids).toContain(49408);
        expect(r.max_abs_diff).toBeLessThan(TOLERANCE);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
