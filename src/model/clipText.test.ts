import { describe, expect, it } from 'vitest';
import { createWasmSession, runGraph, runSession } from '../engine/graph/runWasm';
import { canonicalCLIPTextName } from './clipText';
import { parseCLIPTextConfig } from './config';
import { buildTextEncoderGraph } from './graphs';
import { readSafetensors, type Float32Tensor } from './safetensors';
import { asInput, fixtureBytes, fixtureJson, maxAbsDiff, referenceIO } from './testing/fixture';

const ref = referenceIO().text_encoder;
const configJson = fixtureJson('text_encoder/config.json') as object;
const config = parseCLIPTextConfig(configJson);
// transformers 5 wrote this file without the `text_model.` prefix.
const tensors = readSafetensors(fixtureBytes('text_encoder/model.safetensors'));
const ids = asInput(ref.inputs.input_ids, 'int64') as BigInt64Array;

describe('CLIPTextModel', () => {
  it("reproduces transformers' last_hidden_state and pooler_output", async () => {
    const { graph, inputs, outputs } = buildTextEncoderGraph(config, { kind: 'weights', tensors }, { batch: 1, pooled: true });
    expect(inputs).toEqual(['input_ids']);
    expect(outputs).toEqual(['last_hidden_state', 'pooler_output']);
    const out = await runGraph(graph, { input_ids: ids });
    expect(maxAbsDiff(out.last_hidden_state as Float32Array, ref.outputs.last_hidden_state.data)).toBeLessThan(1e-4);
    expect(maxAbsDiff(out.pooler_output as Float32Array, ref.outputs.pooler_output.data)).toBeLessThan(1e-4);
  });

  it('loads transformers 4.x names (text_model. prefix, int64 position_ids buffer) to the same graph', async () => {
    expect(canonicalCLIPTextName('embeddings.token_embedding.weight')).toBe('text_model.embeddings.token_embedding.weight');
    expect(canonicalCLIPTextName('text_model.final_layer_norm.bias')).toBe('text_model.final_layer_norm.bias');
    expect(canonicalCLIPTextName('text_model.embeddings.position_ids')).toBeNull();
    const prefixed = new Map<string, Float32Tensor>([...tensors].map(([n, t]) => [`text_model.${n}`, t]));
    const { graph } = buildTextEncoderGraph(config, { kind: 'weights', tensors: prefixed }, { batch: 1 });
    expect(graph.parameters().map((p) => p.tensor.name)).toContain('text_model.encoder.layers.4.mlp.fc2.bias');
    const out = await runGraph(graph, { input_ids: ids });
    expect(maxAbsDiff(out.last_hidden_state as Float32Array, ref.outputs.last_hidden_state.data)).toBeLessThan(1e-4);
  });

  it('pools at the first eos_token_id position when eos_token_id is not the legacy 2', async () => {
    const eos = 743; // occurs at positions 2, 14 and 63 of the reference ids
    const first = Array.from(ids).findIndex((v) => v === BigInt(eos));
    expect(first).toBe(2);
    const c = parseCLIPTextConfig({ ...configJson, eos_token_id: eos });
    const { graph } = buildTextEncoderGraph(c, { kind: 'weights', tensors }, { batch: 2, pooled: true });
    // Second sequence: the same ids shifted by one, so its eos sits one position later.
    const two = new BigInt64Array(2 * 77);
    two.set(ids, 0);
    two.set([5n, ...ids.subarray(0, 76)], 77);
    const session = await createWasmSession(graph);
    const out = await runSession(session, graph, { input_ids: two });
    await session.release();
    const hidden = out.last_hidden_state as Float32Array;
    const pooled = out.pooler_output as Float32Array;
    const row = (b: number, pos: number) => hidden.subarray((b * 77 + pos) * 32, (b * 77 + pos + 1) * 32);
    expect(Array.from(pooled.subarray(0, 32))).toEqual(Array.from(row(0, first)));
    expect(Array.from(pooled.subarray(32))).toEqual(Array.from(row(1, first + 1)));
  });

  it("creates exactly transformers' parameter names and shapes from a seed", () => {
    const { graph, untrained } = buildTextEncoderGraph(config, { kind: 'seeded', seed: 7 }, { batch: 1 });
    expect(untrained).toBe(true);
    const made = new Map(graph.parameters().map((p) => [p.tensor.name, [...p.tensor.shape]]));
    const expected = new Map([...tensors].map(([n, t]) => [canonicalCLIPTextName(n)!, t.shape]));
    expect([...made.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, shape] of expected) expect(made.get(name), name).toEqual(shape);
  });

  it('runs a shorter sequence than max_position_embeddings and a gelu config', async () => {
    const c = parseCLIPTextConfig({ ...configJson, hidden_act: 'gelu' });
    const { graph } = buildTextEncoderGraph(c, { kind: 'weights', tensors }, { batch: 1, length: 16 });
    const out = await runGraph(graph, { input_ids: ids.slice(0, 16) });
    // Causal attention: a prefix's states do not depend on later tokens, so they match the full-length run.
    const { graph: full } = buildTextEncoderGraph(c, { kind: 'weights', tensors }, { batch: 1 });
    const fullOut = await runGraph(full, { input_ids: ids });
    expect(maxAbsDiff(out.last_hidden_state as Float32Array, (fullOut.last_hidden_state as Float32Array).subarray(0, 16 * 32))).toBeLessThan(1e-5);
    // And gelu differs from quick_gelu (the activation setting is honoured).
    expect(maxAbsDiff(fullOut.last_hidden_state as Float32Array, ref.outputs.last_hidden_state.data)).toBeGreaterThan(1e-3);
  });
});
