import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createWasmSession, runSession } from '../engine/graph/runWasm';
import { loadModelFolder, type FolderReader } from './folder';
import { buildTextEncoderGraph, buildUNetGraph, buildVAEDecoderGraph, buildVAEEncoderGraph } from './graphs';
import { nodeFolderReader } from './nodeFolder';

const root = new URL('../../', import.meta.url).pathname;
const fixtureDir = `${root}fixtures/diffusers-tiny-sd`;
const builtinDir = `${root}models/builtin`;

/** The fixture folder with some files replaced (string/bytes) or removed (null). */
function patched(changes: Record<string, string | Uint8Array | null>): FolderReader {
  const base = nodeFolderReader(fixtureDir);
  return async (path) => {
    if (path in changes) {
      const c = changes[path];
      return typeof c === 'string' ? new TextEncoder().encode(c) : (c ?? null);
    }
    return base(path);
  };
}

describe('loadModelFolder', () => {
  it("loads diffusers' tiny SD folder (no model_index.json) with its weights", async () => {
    const m = await loadModelFolder(nodeFolderReader(fixtureDir));
    expect(m.index).toBeNull();
    expect(m.untrained).toBe(false);
    expect(m.unet.weights.kind).toBe('weights');
    expect(m.textEncoder.config.hidden_size).toBe(32);
    expect(m.vae.config.scaling_factor).toBe(0.18215);
  });

  it('falls back to a seeded, labelled-untrained initialisation where weights are absent', async () => {
    const m = await loadModelFolder(patched({ 'vae/diffusion_pytorch_model.safetensors': null }), { seed: 5 });
    expect(m.vae).toMatchObject({ untrained: true, weights: { kind: 'seeded', seed: 5 } });
    expect(m.unet.untrained).toBe(false);
    expect(m.untrained).toBe(true);
  });

  it('names the file and the problem', async () => {
    await expect(loadModelFolder(patched({ 'vae/config.json': null }))).rejects.toThrow('vae/config.json is missing');
    await expect(loadModelFolder(patched({ 'unet/config.json': '{"in_channels": 4,' }))).rejects.toThrow(/^unet\/config.json: is not valid JSON/);
    await expect(loadModelFolder(patched({ 'model_index.json': '{"unet": ["diffusers", "UNet2DModel"]}' }))).rejects.toThrow(
      'model_index.json: "vae" is missing; "text_encoder" is missing; "scheduler" is missing; "unet"[1]: "UNet2DModel" is not supported',
    );
    const truncated = readFileSync(`${fixtureDir}/text_encoder/model.safetensors`).subarray(0, 100_000);
    await expect(loadModelFolder(patched({ 'text_encoder/model.safetensors': truncated }))).rejects.toThrow(
      /^text_encoder\/model.safetensors: safetensors: tensor ".*" ends at byte \d+ of a \d+-byte data section \(truncated file\?\)$/,
    );
    await expect(
      loadModelFolder(patched({ 'unet/diffusion_pytorch_model.safetensors': null, 'unet/diffusion_pytorch_model.bin': new Uint8Array(1) })),
    ).rejects.toThrow('unet/diffusion_pytorch_model.bin: PyTorch pickle weights are not supported');
  });
});

describe('built-in model (models/builtin)', () => {
  it('is a small pretrained SD configuration: 64×64 RGB ↔ 4×16×16 latents, text → UNet → VAE end to end', async () => {
    const m = await loadModelFolder(nodeFolderReader(builtinDir));
    expect(m.index?.unet).toEqual(['diffusers', 'UNet2DConditionModel']);
    expect(m.untrained).toBe(false);
    const { unet, vae, textEncoder } = m;
    expect(unet.config.cross_attention_dim).toBe(textEncoder.config.hidden_size);

    const te = buildTextEncoderGraph(textEncoder.config, textEncoder.weights, { batch: 2 });
    const un = buildUNetGraph(unet.config, unet.weights, { batch: 2 });
    const dec = buildVAEDecoderGraph(vae.config, vae.weights, { batch: 1 });
    const enc = buildVAEEncoderGraph(vae.config, vae.weights, { batch: 1 });
    expect(un.graph.inputs.map((t) => t.shape)).toEqual([[2, 4, 16, 16], [2], [2, 77, textEncoder.config.hidden_size]]);
    expect(dec.graph.outputs[0]!.shape).toEqual([1, 3, 64, 64]);
    expect(enc.graph.inputs[0]!.shape).toEqual([1, 3, 64, 64]);
    expect(enc.graph.outputs[0]!.shape).toEqual([1, 4, 16, 16]);

    // Under ~40 MB of float32 weights in all.
    const params = [te, un, dec, enc].reduce((n, { graph }) => n + graph.parameters().reduce((k, p) => k + p.tensor.size, 0), 0);
    expect(params * 4).toBeLessThan(40 * 2 ** 20);

    const ids = new BigInt64Array(2 * 77).fill(1n);
    ids[0] = 0n;
    ids[77] = 0n;
    ids[78] = 17n;
    const teSession = await createWasmSession(te.graph);
    const text = (await runSession(teSession, te.graph, { input_ids: ids })).last_hidden_state as Float32Array;
    await teSession.release();
    const unSession = await createWasmSession(un.graph);
    const eps = (
      await runSession(unSession, un.graph, {
        sample: Float32Array.from({ length: 2 * 4 * 16 * 16 }, (_, i) => Math.sin(i)),
        timestep: new Float32Array([500, 500]),
        encoder_hidden_states: text,
      })
    ).out_sample as Float32Array;
    await unSession.release();
    expect(eps.every(Number.isFinite)).toBe(true);
    // The two prompts differ, so cross-attention makes the two predictions differ.
    expect(eps.subarray(0, 1024)).not.toEqual(eps.subarray(1024));
  });
});
