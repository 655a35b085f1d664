import { beforeAll, describe, expect, test } from 'vitest';
import { personalizedFolder, type TrainedValues } from '../dreambooth/personalizedModel';
import { presetSettings } from '../dreambooth/trainSettings';
import { IDENTIFIER_EMBEDDINGS, LORA_TARGET, UNET_PREFIX } from '../dreambooth/trainGraph';
import { builtinModelSource, loadGenerationModel } from '../generation/generationModel';
import type { ModelFolder } from '../model/folder';
import { parseSafetensors, readSafetensors, writeSafetensors, type Float32Tensor } from '../model/safetensors';
import { STUDIO_KEYS, STUDIO_VERSION, type StudioExportMetadata } from './exportMetadata';
import { InteropError } from './interopError';
import { LORA_ADAPTER_METADATA_KEY, baseModelHash, exportLora, importLora, type LoraNaming } from './loraFile';
import { loraValues } from './testing/loraValues';

let base: ModelFolder;
let hash: string;
let values: TrainedValues;
let meta: StudioExportMetadata;
const RANK = 4;
const ALPHA = 8; // ≠ rank, so a lost alpha changes the merged weights
const ROW = 2300; // a row of the built-in compact vocabulary's table (2304 rows)

beforeAll(async () => {
  base = (await loadGenerationModel(builtinModelSource())).folder;
  hash = await baseModelHash(base);
  values = loraValues(base, { rank: RANK, alpha: ALPHA, seed: 7, identifierRows: [ROW] });
  meta = {
    baseModel: hash,
    identifier: 'zovy',
    classNoun: 'dog',
    steps: 400,
    settings: { ...presetSettings('pet'), loraRank: RANK, loraAlpha: ALPHA },
    studioVersion: STUDIO_VERSION,
  };
}, 60_000);

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
/** -1 when both hold the same float32 bit patterns, else the first index where they differ (toEqual is slow on millions). */
function firstDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const [x, y] = [bits(a), bits(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}
const adapterModules = () =>
  [...(base.unet.weights.kind === 'weights' ? base.unet.weights.tensors.keys() : [])]
    .filter((n) => LORA_TARGET.test(`${UNET_PREFIX}${n}`))
    .map((n) => n.slice(0, -'.weight'.length));

function expectSameValues(got: TrainedValues, want: TrainedValues) {
  expect([...got.tensors.keys()].sort()).toEqual([...want.tensors.keys()].sort());
  for (const [name, v] of want.tensors) expect(firstDiff(got.tensors.get(name)!, v), name).toBe(-1);
  expect([...got.adapters].sort((a, b) => a.base.localeCompare(b.base))).toEqual([...want.adapters].sort((a, b) => a.base.localeCompare(b.base)));
  expect(got.identifierRows).toEqual(want.identifierRows);
}

/** Every tensor of both components, compared bit for bit; returns how many differ from `base`. */
function expectSameModel(a: ModelFolder, b: ModelFolder): number {
  let changed = 0;
  for (const part of ['unet', 'textEncoder'] as const) {
    const ta = a[part].weights.kind === 'weights' ? a[part].weights.tensors : new Map<string, Float32Tensor>();
    const tb = b[part].weights.kind === 'weights' ? b[part].weights.tensors : new Map<string, Float32Tensor>();
    expect([...ta.keys()].sort()).toEqual([...tb.keys()].sort());
    for (const [name, t] of ta) {
      expect(firstDiff(tb.get(name)!.data, t.data), name).toBe(-1);
      const orig = base[part].weights.kind === 'weights' ? base[part].weights.tensors.get(name) : undefined;
      if (orig && firstDiff(orig.data, t.data) >= 0) changed++;
    }
  }
  return changed;
}

describe.each<LoraNaming>(['peft', 'kohya'])('%s LoRA round trip on the built-in model', (naming) => {
  test('export → import gives bit-identical values and the same personalized model', { timeout: 120_000 }, () => {
    const { lora, embedding } = exportLora(values, meta, naming);
    expect(embedding).toBeDefined();
    const back = importLora(lora, base, hash, { embedding: embedding! });
    expect(back.naming).toBe(naming);
    expect(back.identifier).toBe('zovy');
    expect(back.meta).toEqual(meta);
    expectSameValues(back.values, values);
    const changed = expectSameModel(personalizedFolder(base, back.values), personalizedFolder(base, values));
    // 56 adapted projections + the token table: the merge did something, and the same thing both ways.
    expect(changed).toBe(adapterModules().length + 1);
  });

  test('every safetensors metadata value is a string and names the base model, subject, steps, settings and version', () => {
    const { lora, embedding } = exportLora(values, meta, naming);
    for (const file of [lora, embedding!]) {
      const md = parseSafetensors(file).metadata;
      expect(md.format).toBe('pt');
      expect(md[STUDIO_KEYS.baseModel]).toBe(hash);
      expect(md[STUDIO_KEYS.identifier]).toBe('zovy');
      expect(md[STUDIO_KEYS.classNoun]).toBe('dog');
      expect(md[STUDIO_KEYS.steps]).toBe('400');
      expect(JSON.parse(md[STUDIO_KEYS.settings]!)).toEqual(meta.settings);
      expect(md[STUDIO_KEYS.studioVersion]).toBe(STUDIO_VERSION);
    }
  });
});

describe('key names against the formats’ sources', () => {
  // diffusers: UNet2DConditionModel's module paths (down_blocks.i.attentions.j / mid_block.attentions.0 /
  // up_blocks.i.attentions.j → Transformer2DModel.transformer_blocks.k → BasicTransformerBlock.attn1|attn2 →
  // Attention.to_q|to_k|to_v|to_out[0]), peft's lora_A/lora_B sub-modules, and the `unet.` prefix that
  // StableDiffusionLoraLoaderMixin.save_lora_weights packs them under (loaders/lora_base.py _pack_dict_with_prefix).
  const PEFT =
    /^unet\.(?:down_blocks\.\d+\.attentions\.\d+|mid_block\.attentions\.0|up_blocks\.\d+\.attentions\.\d+)\.transformer_blocks\.\d+\.attn[12]\.(?:to_q|to_k|to_v|to_out\.0)\.lora_[AB]\.weight$/;
  // kohya sd-scripts networks/lora.py: lora_name = LORA_PREFIX_UNET ("lora_unet") + "." + module path, then
  // .replace(".", "_"); tensors lora_down.weight / lora_up.weight / alpha (the same keys A1111's and ComfyUI's loaders
  // and diffusers' _convert_non_diffusers_lora_to_diffusers read: its _convert_unet_lora_key turns "_" into "." and
  // then expects "down.blocks", "transformer.blocks", "to.q.lora" … "to.out.0.lora", i.e. to_out_0 in the file).
  const KOHYA =
    /^lora_unet_(?:down_blocks_\d+_attentions_\d+|mid_block_attentions_0|up_blocks_\d+_attentions_\d+)_transformer_blocks_\d+_attn[12]_(?:to_q|to_k|to_v|to_out_0)\.(?:lora_down\.weight|lora_up\.weight|alpha)$/;

  test.each<[LoraNaming, RegExp, string[]]>([
    ['peft', PEFT, ['.lora_A.weight', '.lora_B.weight']],
    ['kohya', KOHYA, ['.lora_down.weight', '.lora_up.weight', '.alpha']],
  ])('%s: every adapter of LORA_TARGET, and nothing else', (naming, pattern, suffixes) => {
    const keys = [...readSafetensors(exportLora(values, meta, naming).lora).keys()];
    for (const key of keys) expect(key).toMatch(pattern);
    const modules = adapterModules();
    expect(modules.length).toBe(56); // 7 transformer blocks × attn1/attn2 × q, k, v, out
    const prefix = naming === 'peft' ? 'unet.' : 'lora_unet_';
    const want = modules.flatMap((m) => suffixes.map((s) => `${prefix}${naming === 'peft' ? m : m.replaceAll('.', '_')}${s}`));
    expect(keys.sort()).toEqual(want.sort());
  });

  test('peft: A is [r, in], B is [out, r], and alpha is the LoraConfig diffusers stores under lora_adapter_metadata', () => {
    const file = exportLora(values, meta, 'peft').lora;
    const parsed = parseSafetensors(file);
    const q = 'unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_k';
    const w =
      base.unet.weights.kind === 'weights' ? base.unet.weights.tensors.get('mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight')! : { shape: [] };
    expect(parsed.entries.get(`${q}.lora_A.weight`)!.shape).toEqual([RANK, w.shape[1]]);
    expect(parsed.entries.get(`${q}.lora_B.weight`)!.shape).toEqual([w.shape[0], RANK]);
    const config = JSON.parse(parsed.metadata[LORA_ADAPTER_METADATA_KEY]!);
    expect(config['unet.r']).toBe(RANK);
    expect(config['unet.lora_alpha']).toBe(ALPHA);
    expect(config['unet.target_modules']).toHaveLength(56);
  });

  test('kohya: alpha is a scalar tensor per module', () => {
    const t = readSafetensors(exportLora(values, meta, 'kohya').lora).get('lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_out_0.alpha')!;
    expect(t.shape).toEqual([]);
    expect(t.data[0]).toBe(ALPHA);
  });

  test('the embedding file is one emb_params tensor [n_tokens, dim] with the token in its metadata', () => {
    const file = exportLora(values, meta, 'peft').embedding!;
    const t = readSafetensors(file);
    expect([...t.keys()]).toEqual(['emb_params']);
    expect(t.get('emb_params')!.shape).toEqual([1, base.textEncoder.config.hidden_size]);
    expect(parseSafetensors(file).metadata.token).toBe('zovy');
  });
});

describe('files the studio refuses, naming the key and the reason', () => {
  /** The peft file with its tensors edited. */
  const edited = (edit: (t: Map<string, Float32Tensor>) => void, metadataEdit: (m: Record<string, string>) => void = () => {}) => {
    const file = exportLora(values, meta, 'peft').lora;
    const tensors = readSafetensors(file);
    const metadata = { ...parseSafetensors(file).metadata };
    edit(tensors);
    metadataEdit(metadata);
    return writeSafetensors(tensors, { metadata });
  };
  const refusal = (f: () => unknown): InteropError => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(InteropError);
      return e as InteropError;
    }
    throw new Error('expected an InteropError');
  };
  const Q = 'unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q';

  test('another base model’s hash', () => {
    const e = refusal(() => importLora(exportLora(values, { ...meta, baseModel: 'ab'.repeat(32) }, 'kohya').lora, base, hash));
    expect(e.key).toBe(`__metadata__.${STUDIO_KEYS.baseModel}`);
    expect(e.message).toMatch(/trained on base model abababababab…, not on this one/);
  });

  test('a rank mismatch between A and B', () => {
    const e = refusal(() =>
      importLora(
        edited((t) => t.set(`${Q}.lora_B.weight`, { shape: [96, RANK - 1], data: new Float32Array(96 * (RANK - 1)) })),
        base,
        hash,
      ),
    );
    expect(e.message).toBe(`${Q}.lora_B.weight: rank ${RANK - 1} differs from the rank ${RANK} of ${Q}.lora_A.weight`);
  });

  test('an A that does not fit the base weight', () => {
    const e = refusal(() =>
      importLora(
        edited((t) => t.set(`${Q}.lora_A.weight`, { shape: [RANK, 63], data: new Float32Array(RANK * 63) })),
        base,
        hash,
      ),
    );
    expect(e.message).toBe(`${Q}.lora_A.weight: shape [${RANK}, 63] does not fit the base weight [96, 96] (expected [rank, 96])`);
  });

  test('a rank the recorded LoraConfig contradicts', () => {
    const e = refusal(() =>
      importLora(
        edited(
          () => {},
          (m) => (m[LORA_ADAPTER_METADATA_KEY] = JSON.stringify({ 'unet.r': 8, 'unet.lora_alpha': 8 })),
        ),
        base,
        hash,
      ),
    );
    expect(e.message).toMatch(/lora_A\.weight: rank 4 differs from the rank 8 that __metadata__\.lora_adapter_metadata gives$/);
  });

  test('an unknown key, a module the base model lacks, a text-encoder adapter, a lone half', () => {
    const magnitude = `${Q}.lora_magnitude_vector`;
    expect(
      refusal(() =>
        importLora(
          edited((t) => t.set(magnitude, { shape: [96], data: new Float32Array(96) })),
          base,
          hash,
        ),
      ).message,
    ).toBe(`${magnitude}: not a peft LoRA tensor name (expected unet.<module>.lora_A.weight / .lora_B.weight)`);
    const nine = 'unet.down_blocks.9.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight';
    expect(
      refusal(() =>
        importLora(
          edited((t) => t.set(nine, { shape: [RANK, 96], data: new Float32Array(RANK * 96) })),
          base,
          hash,
        ),
      ).message,
    ).toBe(`${nine}: the base model has no module down_blocks.9.attentions.0.transformer_blocks.0.attn1.to_q`);
    const te = 'text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight';
    expect(
      refusal(() =>
        importLora(
          edited((t) => t.set(te, { shape: [RANK, 192], data: new Float32Array(RANK * 192) })),
          base,
          hash,
        ),
      ).message,
    ).toMatch(/^text_encoder\.text_model\.encoder\.layers\.0\.self_attn\.q_proj\.lora_A\.weight: text-encoder LoRA adapters are not supported/);
    expect(
      refusal(() =>
        importLora(
          edited((t) => t.delete(`${Q}.lora_A.weight`)),
          base,
          hash,
        ),
      ).message,
    ).toBe(`${Q}.lora_B.weight: has no matching ${Q}.lora_A.weight`);
  });

  test('NaN or infinite data, and integer data', () => {
    const nan = refusal(() =>
      importLora(
        edited((t) => (t.get(`${Q}.lora_B.weight`)!.data[5] = NaN)),
        base,
        hash,
      ),
    );
    expect(nan.message).toBe(`${Q}.lora_B.weight: value 5 is NaN (the weights must be finite numbers)`);
    // Same byte width, so the header stays consistent: only the dtype changes.
    const file = exportLora(values, meta, 'peft').lora;
    const text = new TextDecoder().decode(file);
    const at = text.indexOf('"F32"', text.indexOf(`"${Q}.lora_A.weight"`));
    const ints = file.slice();
    ints.set(new TextEncoder().encode('"I32"'), at);
    expect(refusal(() => importLora(ints, base, hash)).message).toBe(`${Q}.lora_A.weight: dtype I32 is not a float type (F32, F16, BF16 or F64)`);
  });

  test('damaged files: truncated, a huge header length, a header that is not JSON, offsets beyond the file', () => {
    const file = exportLora(values, meta, 'peft').lora;
    expect(refusal(() => importLora(file.subarray(0, file.length - 100), base, hash)).message).toMatch(
      /^the LoRA file is not a readable safetensors file \(safetensors: tensor ".*" ends at byte \d+ of a \d+-byte data section \(truncated file\?\)\)$/,
    );
    expect(refusal(() => importLora(file.subarray(0, 5), base, hash)).message).toMatch(/shorter than the 8-byte header length/);
    const huge = file.slice();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 62n, true);
    expect(refusal(() => importLora(huge, base, hash)).message).toMatch(/header length \d+ exceeds the 100000000-byte limit/);
    const notJson = file.slice();
    notJson[8] = 0x7b + 1; // '|' instead of '{'
    expect(refusal(() => importLora(notJson, base, hash)).message).toMatch(/header is not valid UTF-8 JSON/);
    // Hand-written headers: a span past the end of the data, and a terabyte tensor that must not be allocated.
    const raw = (header: object, dataBytes: number) => {
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + json.length + dataBytes);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    const pastEnd = raw({ [`${Q}.lora_A.weight`]: { dtype: 'F32', shape: [RANK, 96], data_offsets: [0, RANK * 96 * 4] } }, 16);
    expect(refusal(() => importLora(pastEnd, base, hash)).message).toMatch(/ends at byte 1536 of a 16-byte data section/);
    const terabyte = raw({ [`${Q}.lora_A.weight`]: { dtype: 'F32', shape: [2 ** 38], data_offsets: [0, 2 ** 40] } }, 16);
    expect(refusal(() => importLora(terabyte, base, hash)).message).toMatch(/ends at byte 1099511627776 of a 16-byte data section/);
  });

  test('an embedding that does not fit the text encoder', () => {
    const { lora } = exportLora(values, meta, 'peft');
    const wrong = writeSafetensors(new Map([['emb_params', { shape: [1, 768], data: new Float32Array(768) }]]), {
      metadata: { studio_identifier_rows: '[2300]' },
    });
    expect(refusal(() => importLora(lora, base, hash, { embedding: wrong })).message).toBe(
      'emb_params: shape [1, 768] does not fit this text encoder (expected [n_tokens, 192])',
    );
  });

  test('full fine-tuning cannot be a LoRA', () => {
    expect(refusal(() => exportLora(values, { ...meta, settings: { ...meta.settings, unet: 'full' } }, 'peft')).message).toMatch(
      /^the UNet was fully fine-tuned: .*export the full model instead/,
    );
    const withFull: TrainedValues = { ...values, tensors: new Map([...values.tensors, ['unet.conv_in.weight', new Float32Array(4)]]) };
    expect(refusal(() => exportLora(withFull, meta, 'kohya')).message).toMatch(
      /^unet\.conv_in\.weight is a fully trained weight: .*export the full model instead/,
    );
  });
});

describe('baseModelHash', () => {
  test('is a sha256 that ignores tensor order and follows every weight value', async () => {
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const tensors = base.unet.weights.kind === 'weights' ? base.unet.weights.tensors : new Map<string, Float32Tensor>();
    const reversed: ModelFolder = { ...base, unet: { ...base.unet, weights: { kind: 'weights', tensors: new Map([...tensors].reverse()) } } };
    expect(await baseModelHash(reversed)).toBe(hash);
    const [name, t] = [...tensors][3]!;
    const data = t.data.slice();
    data[0] = Math.fround(data[0]! + 1e-3);
    const nudged: ModelFolder = {
      ...base,
      unet: { ...base.unet, weights: { kind: 'weights', tensors: new Map(tensors).set(name, { shape: t.shape, data }) } },
    };
    expect(await baseModelHash(nudged)).not.toBe(hash);
  });
});

test('values without trained identifier rows export no embedding file', () => {
  const noRows: TrainedValues = { ...values, tensors: new Map([...values.tensors].filter(([n]) => n !== IDENTIFIER_EMBEDDINGS)), identifierRows: [] };
  expect(exportLora(noRows, meta, 'peft').embedding).toBeUndefined();
});

test('a kohya file from another trainer with a Conv adapter (proj_in, 1×1) imports, merges as W + alpha/r·B·A, and re-exports unchanged', () => {
  // What sd-scripts writes for a Transformer2DModel's proj_in when use_linear_projection is false: a 1×1 Conv2d
  // LoRA, lora_down [r, in, 1, 1] and lora_up [out, r, 1, 1].
  const stem = 'lora_unet_down_blocks_1_attentions_0_proj_in';
  const [r, ch, alpha] = [2, 96, 1];
  const down = Float32Array.from({ length: r * ch }, (_, i) => Math.sin(i) * 0.1);
  const up = Float32Array.from({ length: ch * r }, (_, i) => Math.cos(i) * 0.1);
  const file = writeSafetensors(
    new Map([
      [`${stem}.lora_down.weight`, { shape: [r, ch, 1, 1], data: down }],
      [`${stem}.lora_up.weight`, { shape: [ch, r, 1, 1], data: up }],
      [`${stem}.alpha`, { shape: [], data: Float32Array.of(alpha) }],
    ]),
  );
  const imported = importLora(file, base, hash);
  expect(imported.values.adapters).toEqual([
    {
      base: 'unet.down_blocks.1.attentions.0.proj_in.weight',
      a: 'unet.down_blocks.1.attentions.0.proj_in.lora_A.weight',
      b: 'unet.down_blocks.1.attentions.0.proj_in.lora_B.weight',
      rank: r,
      alpha,
    },
  ]);
  const w = (base.unet.weights.kind === 'weights' ? base.unet.weights.tensors : new Map<string, Float32Tensor>()).get(
    'down_blocks.1.attentions.0.proj_in.weight',
  )!;
  const mergedFolder = personalizedFolder(base, imported.values);
  const merged = (mergedFolder.unet.weights.kind === 'weights' ? mergedFolder.unet.weights.tensors : new Map<string, Float32Tensor>()).get(
    'down_blocks.1.attentions.0.proj_in.weight',
  )!;
  expect(merged.shape).toEqual([ch, ch, 1, 1]);
  for (const [o, i] of [
    [0, 0],
    [5, 17],
    [95, 95],
  ] as const) {
    const delta = (alpha / r) * (up[o * r]! * down[i]! + up[o * r + 1]! * down[ch + i]!);
    expect(merged.data[o * ch + i]).toBeCloseTo(w.data[o * ch + i]! + delta, 6);
  }
  const again = exportLora(imported.values, meta, 'kohya').lora;
  const t = readSafetensors(again);
  expect(t.get(`${stem}.lora_down.weight`)!.shape).toEqual([r, ch, 1, 1]);
  expect(t.get(`${stem}.lora_up.weight`)!.shape).toEqual([ch, r, 1, 1]);
  expect(Buffer.from(t.get(`${stem}.lora_down.weight`)!.data.buffer).equals(Buffer.from(down.buffer))).toBe(true);
  expect(t.get(`${stem}.alpha`)!.data[0]).toBe(alpha);
});
