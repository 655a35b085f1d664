import { describe, expect, it } from 'vitest';
import { runGraph } from '../engine/graph/runWasm';
import { parseCLIPTextConfig, parseUNetConfig } from './config';
import { exportSafetensors } from './export';
import { buildTextEncoderGraph, buildUNetGraph } from './graphs';
import { readSafetensors } from './safetensors';
import { fixtureBytes, fixtureJson } from './testing/fixture';

describe('weight export', () => {
  it('writes a loaded UNet back as the same diffusers state dict', () => {
    const original = readSafetensors(fixtureBytes('unet/diffusion_pytorch_model.safetensors'));
    const { graph } = buildUNetGraph(parseUNetConfig(fixtureJson('unet/config.json')), { kind: 'weights', tensors: original }, { batch: 1 });
    const back = readSafetensors(exportSafetensors(graph));
    expect([...back.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [name, t] of original) {
      expect(back.get(name)!.shape, name).toEqual(t.shape);
      expect(Buffer.compare(new Uint8Array(back.get(name)!.data.buffer), new Uint8Array(t.data.buffer)), name).toBe(0);
    }
  });

  it('an exported seeded text encoder reloads to the same outputs', async () => {
    const config = parseCLIPTextConfig(fixtureJson('text_encoder/config.json'));
    const seeded = buildTextEncoderGraph(config, { kind: 'seeded', seed: 11 }, { batch: 1, length: 8 });
    const file = exportSafetensors(seeded.graph);
    const reloaded = buildTextEncoderGraph(config, { kind: 'weights', tensors: readSafetensors(file) }, { batch: 1, length: 8 });
    expect(reloaded.untrained).toBe(false);
    const ids = { input_ids: BigInt64Array.from([0n, 5n, 9n, 2n, 1n, 1n, 1n, 1n]) };
    expect((await runGraph(reloaded.graph, ids)).last_hidden_state).toEqual((await runGraph(seeded.graph, ids)).last_hidden_state);
  });
});
