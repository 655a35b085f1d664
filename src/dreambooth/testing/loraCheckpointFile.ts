/**
 * A LoRA checkpoint file of a model as the trainer writes one (src/dreambooth/trainer.ts `checkpoint()`): rank-2
 * adapters with seeded values on the UNet's first four attention q/v projections — fewer adapters and a lower rank than
 * its settings (the Quick look preset) say, as a checkpoint of other settings would be. Tests only.
 */
import { STATE } from '../../engine/optim/trainStep';
import { writeSafetensors, type Float32Tensor } from '../../model/safetensors';
import { presetSettings } from '../trainSettings';

/** `unetShapes`: the UNet's weight shapes by diffusers name (a safetensors header's entries). */
export function loraCheckpointFile(unetShapes: Iterable<readonly [string, { shape: readonly number[] }]>, step: number) {
  const targets = [...unetShapes].filter(([name]) => /attn[12]\.to_[qv]\.weight$/.test(name)).slice(0, 4);
  let seed = 1;
  const values = (n: number) =>
    Float32Array.from({ length: n }, () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return (seed / 2 ** 32 - 0.5) / 5;
    });
  const adapters = targets.map(([name]) => {
    const module = `unet.${name.slice(0, -'.weight'.length)}`;
    return { base: `unet.${name}`, a: `${module}.lora_A.weight`, b: `${module}.lora_B.weight`, rank: 2, alpha: 2 };
  });
  const layout: { name: string; shape: number[]; offset: number; size: number }[] = [];
  const parts: Float32Array[] = [];
  let offset = 0;
  targets.forEach(([, entry], i) => {
    const [out, fanIn] = entry.shape as [number, number];
    for (const [name, shape] of [
      [adapters[i]!.a, [2, fanIn]],
      [adapters[i]!.b, [out, 2]],
    ] as const) {
      const size = shape[0] * shape[1];
      layout.push({ name, shape: [...shape], offset, size });
      parts.push(values(size));
      offset += size;
    }
  });
  const params = new Float32Array(offset);
  parts.reduce((at, p) => (params.set(p, at), at + p.length), 0);
  const settings = { ...presetSettings('quick'), steps: step, checkpointEvery: step };
  const meta = { format: 'dreambooth-studio-checkpoint', version: 1, step, settings, dataHash: 'test', sampler: {}, layout, adapters, identifierRows: [] };
  const tensors = new Map<string, Float32Tensor>(
    [STATE.params, STATE.m, STATE.v].map((n) => [n, { shape: [offset], data: n === STATE.params ? params : new Float32Array(offset) }]),
  );
  const file = writeSafetensors(tensors, { metadata: { format: 'pt', dreambooth_studio: JSON.stringify(meta) } });
  return { file, settings, weightBytes: offset * 4 };
}
