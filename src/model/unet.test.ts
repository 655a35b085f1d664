import { describe, expect, it } from 'vitest';
import { type TensorData } from '../engine/graph';
import { createWasmSession, runSession } from '../engine/graph/runWasm';
import { parseUNetConfig } from './config';
import { buildUNetGraph } from './graphs';
import { readSafetensors, type Float32Tensor } from './safetensors';
import { asInput, fixtureBytes, fixtureJson, maxAbsDiff, referenceIO } from './testing/fixture';

const ref = referenceIO().unet;
const config = parseUNetConfig(fixtureJson('unet/config.json'));
const tensors = readSafetensors(fixtureBytes('unet/diffusion_pytorch_model.safetensors'));
const weights = { kind: 'weights', tensors } as const;
const inputs = {
  sample: asInput(ref.inputs.sample, 'float32'),
  encoder_hidden_states: asInput(ref.inputs.encoder_hidden_states, 'float32'),
};
const expected = ref.outputs.out_sample.data;

async function run(graph: ReturnType<typeof buildUNetGraph>['graph'], feeds: Record<string, TensorData>): Promise<Float32Array> {
  const session = await createWasmSession(graph);
  try {
    return (await runSession(session, graph, feeds)).out_sample as Float32Array;
  } finally {
    await session.release();
  }
}

describe('UNet2DConditionModel', () => {
  it('reproduces diffusers with an int64 timestep input', async () => {
    const { graph, inputs: names, outputs, untrained } = buildUNetGraph(config, weights, { batch: 2, timestepDtype: 'int64' });
    expect(names).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    expect(outputs).toEqual(['out_sample']);
    expect(untrained).toBe(false);
    const out = await run(graph, { ...inputs, timestep: asInput(ref.inputs.timestep, 'int64') });
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-4);
  });

  it('gives a batch of 2 (uncond + cond, as classifier-free guidance runs it) the same result as two batch-1 calls', async () => {
    const timestep = asInput(ref.inputs.timestep, 'float32') as Float32Array;
    const both = await run(buildUNetGraph(config, weights, { batch: 2 }).graph, { ...inputs, timestep });
    expect(maxAbsDiff(both, expected)).toBeLessThan(1e-4); // float32 timesteps give diffusers' result too
    const single = buildUNetGraph(config, weights, { batch: 1 }).graph;
    const session = await createWasmSession(single);
    const half = (a: TensorData, i: number) => (a as Float32Array).subarray((i * a.length) / 2, ((i + 1) * a.length) / 2);
    for (const i of [0, 1]) {
      const out = (
        await runSession(session, single, {
          sample: half(inputs.sample, i),
          timestep: half(timestep, i),
          encoder_hidden_states: half(inputs.encoder_hidden_states, i),
        })
      ).out_sample as Float32Array;
      expect(maxAbsDiff(out, half(both, i))).toBeLessThan(1e-5);
    }
    await session.release();
  });

  it('use_linear_projection: the same weights as Linear layers give the same result', async () => {
    // diffusers' proj_in/proj_out are 1×1 convs [C,C,1,1] or Linear [C,C]; same numbers, different layout.
    const linearTensors = new Map<string, Float32Tensor>();
    for (const [name, t] of tensors) {
      const isProj = /\.proj_(in|out)\.weight$/.test(name);
      linearTensors.set(name, isProj ? { shape: t.shape.slice(0, 2), data: t.data } : t);
    }
    const linearConfig = parseUNetConfig({ ...(fixtureJson('unet/config.json') as object), use_linear_projection: true });
    const { graph } = buildUNetGraph(linearConfig, { kind: 'weights', tensors: linearTensors }, { batch: 2 });
    const out = await run(graph, { ...inputs, timestep: asInput(ref.inputs.timestep, 'float32') });
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-4);
  });

  it("creates exactly diffusers' parameter names and shapes when initialised from a seed", () => {
    const { graph, untrained } = buildUNetGraph(config, { kind: 'seeded', seed: 1 }, { batch: 1 });
    expect(untrained).toBe(true);
    const made = new Map(graph.parameters().map((p) => [p.tensor.name, [...p.tensor.shape]]));
    expect([...made.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [name, t] of tensors) expect(made.get(name), name).toEqual(t.shape);
  });

  it('names every missing, mis-shaped and unexpected tensor', () => {
    const broken = new Map(tensors);
    broken.delete('conv_in.weight');
    broken.delete('mid_block.resnets.1.conv2.bias');
    broken.set('conv_out.bias', { shape: [5], data: new Float32Array(5) });
    broken.set('class_embedding.linear_1.weight', { shape: [1], data: new Float32Array(1) });
    expect(() => buildUNetGraph(config, { kind: 'weights', tensors: broken }, { batch: 1 })).toThrow(
      'unet weights: missing tensor "conv_in.weight" [32,4,3,3]; missing tensor "mid_block.resnets.1.conv2.bias" [64]; ' +
        'tensor "conv_out.bias" has shape [5], expected [4]; unexpected tensor "class_embedding.linear_1.weight" (not a parameter of this model)',
    );
  });

  it('rejects sizes the down/up path cannot round-trip', () => {
    expect(() => buildUNetGraph(config, { kind: 'seeded', seed: 0 }, { batch: 1, height: 31, width: 32 })).toThrow(
      'UNet: sample 31×32 must be divisible by 2 (1 downsamplings)',
    );
  });
});
