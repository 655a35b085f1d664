import { describe, expect, it } from 'vitest';
import { runGraph } from '../engine/graph/runWasm';
import { parseVAEConfig } from './config';
import { buildVAEDecoderGraph, buildVAEEncoderGraph } from './graphs';
import { readSafetensors } from './safetensors';
import { asInput, fixtureBytes, fixtureJson, maxAbsDiff, referenceIO } from './testing/fixture';

const ref = referenceIO();
const config = parseVAEConfig(fixtureJson('vae/config.json'));
const tensors = readSafetensors(fixtureBytes('vae/diffusion_pytorch_model.safetensors'));
const weights = { kind: 'weights', tensors } as const;

describe('AutoencoderKL', () => {
  it("encoder reproduces diffusers' posterior (mean ‖ logvar)", async () => {
    const { graph, inputs, outputs } = buildVAEEncoderGraph(config, weights, { batch: 1, height: 64, width: 64 });
    expect(inputs).toEqual(['sample']);
    expect(outputs).toEqual(['latent_mean', 'latent_logvar']);
    const out = await runGraph(graph, { sample: asInput(ref.vae_encoder.inputs.sample, 'float32') });
    const expected = ref.vae_encoder.outputs.latent_parameters.data;
    const half = expected.length / 2;
    expect(maxAbsDiff(out.latent_mean as Float32Array, expected.slice(0, half))).toBeLessThan(1e-4);
    expect(maxAbsDiff(out.latent_logvar as Float32Array, expected.slice(half))).toBeLessThan(1e-4);
  });

  it("encoder reproduces the posterior of a small-amplitude image, where GroupNorm's eps matters", async () => {
    // Input × 1e-2 leaves the first GroupNorms with group variances ~10× eps (1e-6): eps/10 moves the output by ~2e-2.
    const small = fixtureJson('vae_encoder_small_input.json') as { scale: number; latent_parameters: { data: number[] } };
    const { graph } = buildVAEEncoderGraph(config, weights, { batch: 1, height: 64, width: 64 });
    const sample = asInput(ref.vae_encoder.inputs.sample, 'float32') as Float32Array;
    const out = await runGraph(graph, { sample: sample.map((v) => v * small.scale) });
    const expected = small.latent_parameters.data;
    const half = expected.length / 2;
    expect(maxAbsDiff(out.latent_mean as Float32Array, expected.slice(0, half))).toBeLessThan(1e-4);
    expect(maxAbsDiff(out.latent_logvar as Float32Array, expected.slice(half))).toBeLessThan(1e-4);
  });

  it("decoder reproduces diffusers' image", async () => {
    const { graph } = buildVAEDecoderGraph(config, weights, { batch: 1, height: 32, width: 32 });
    const out = await runGraph(graph, { latent_sample: asInput(ref.vae_decoder.inputs.latent_sample, 'float32') });
    expect(maxAbsDiff(out.sample as Float32Array, ref.vae_decoder.outputs.sample.data)).toBeLessThan(1e-4);
  });

  it("encoder and decoder together create exactly diffusers' parameter names and shapes from a seed", () => {
    const seeded = { kind: 'seeded', seed: 3 } as const;
    const made = new Map<string, number[]>();
    for (const { graph } of [buildVAEEncoderGraph(config, seeded, { batch: 1 }), buildVAEDecoderGraph(config, seeded, { batch: 1 })]) {
      for (const p of graph.parameters()) made.set(p.tensor.name, [...p.tensor.shape]);
    }
    expect([...made.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [name, t] of tensors) expect(made.get(name), name).toEqual(t.shape);
  });

  it('optional convs and mid attention follow the config', () => {
    const bare = parseVAEConfig({ ...(fixtureJson('vae/config.json') as object), use_quant_conv: false, mid_block_add_attention: false });
    const names = buildVAEEncoderGraph(bare, { kind: 'seeded', seed: 0 }, { batch: 1 })
      .graph.parameters()
      .map((p) => p.tensor.name);
    expect(names.some((n) => n.startsWith('quant_conv.'))).toBe(false);
    expect(names.some((n) => n.includes('attentions'))).toBe(false);
    expect(names).toContain('encoder.conv_out.weight');
  });
});
