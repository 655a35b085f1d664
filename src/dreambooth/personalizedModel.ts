/**
 * A trained checkpoint as a model the generation pipeline samples from: the base folder with the trained values
 * applied — each LoRA adapter merged into its weight (W + alpha/r · B·A, as peft's merge_and_unload), fully trained
 * weights replaced, the identifier's embedding rows written into the token table — and the base tokenizer with the
 * identifier bound to its rows.
 */
import type { LoraAdapter } from '../engine/lora/lora';
import type { ParamLayout } from '../engine/optim/flatParams';
import { STATE } from '../engine/optim/trainStep';
import type { GenerationModel } from '../generation/generationModel';
import type { ModelFolder } from '../model/folder';
import { componentTensors } from '../model/componentTensors';
import { readCheckpoint } from './trainer';
import { IDENTIFIER_EMBEDDINGS, TEXT_PREFIX, TOKEN_TABLE, UNET_PREFIX } from './trainGraph';

export interface TrainedValues {
  /** Trainable tensors by graph name (`unet.….lora_A.weight`, `text_encoder.identifier_embeddings`, …). */
  tensors: ReadonlyMap<string, Float32Array>;
  adapters: readonly LoraAdapter[];
  identifierRows: readonly number[];
}

/** The trainable values of a checkpoint file. */
export function trainedValuesFromCheckpoint(file: Uint8Array): TrainedValues {
  const { meta, state } = readCheckpoint(file);
  return { tensors: unpack(meta.layout, state[STATE.params]!), adapters: meta.adapters, identifierRows: meta.identifierRows };
}

export function unpack(layout: ParamLayout['entries'], flat: Float32Array): Map<string, Float32Array> {
  return new Map(layout.map((e) => [e.name, flat.subarray(e.offset, e.offset + e.size)]));
}

/** The base folder with `trained` applied; the base folder is not modified. */
export function personalizedFolder(base: ModelFolder, trained: TrainedValues): ModelFolder {
  const unet = new Map(componentTensors(base, 'unet'));
  const text = new Map(componentTensors(base, 'text_encoder'));
  const merged = new Set<string>();
  for (const ad of trained.adapters) {
    const name = ad.base.slice(UNET_PREFIX.length);
    const w = unet.get(name);
    const a = trained.tensors.get(ad.a);
    const b = trained.tensors.get(ad.b);
    if (!w || !a || !b) throw new Error(`the checkpoint's adapter for ${ad.base} does not fit this model`);
    unet.set(name, { shape: w.shape, data: mergeLora(w.data, a, b, ad) });
    merged.add(ad.a).add(ad.b);
  }
  for (const [name, values] of trained.tensors) {
    if (merged.has(name)) continue;
    if (name === IDENTIFIER_EMBEDDINGS) {
      const table = text.get(TOKEN_TABLE.slice(TEXT_PREFIX.length))!;
      const dim = table.shape[1]!;
      const data = table.data.slice();
      trained.identifierRows.forEach((row, k) => data.set(values.subarray(k * dim, (k + 1) * dim), row * dim));
      text.set(TOKEN_TABLE.slice(TEXT_PREFIX.length), { shape: table.shape, data });
      continue;
    }
    const [target, key] = name.startsWith(UNET_PREFIX) ? [unet, name.slice(UNET_PREFIX.length)] : [text, name.slice(TEXT_PREFIX.length)];
    const old = target.get(key);
    if (!old || old.data.length !== values.length) throw new Error(`the checkpoint's ${name} does not fit this model`);
    target.set(key, { shape: old.shape, data: values.slice() });
  }
  return {
    ...base,
    unet: { ...base.unet, weights: { kind: 'weights', tensors: unet } },
    textEncoder: { ...base.textEncoder, weights: { kind: 'weights', tensors: text } },
  };
}

/** The base model with a checkpoint's values applied, under its own id and cache key. */
export function personalizedModel(
  base: GenerationModel,
  trained: TrainedValues,
  o: { id: string; key: string; tokenizer: GenerationModel['tokenizer'] },
): GenerationModel {
  return { ...base, id: o.id, key: o.key, folder: personalizedFolder(base.folder, trained), tokenizer: o.tokenizer };
}

/** W + (alpha/r)·B·A, with A [r, fan_in] and B [out, r] (Conv adapters flattened the same way). */
export function mergeLora(w: Float32Array, a: Float32Array, b: Float32Array, ad: Pick<LoraAdapter, 'rank' | 'alpha'>): Float32Array {
  const r = ad.rank;
  const out = b.length / r;
  const fanIn = a.length / r;
  const scale = ad.alpha / r;
  const merged = w.slice();
  for (let o = 0; o < out; o++) {
    for (let k = 0; k < r; k++) {
      const bk = scale * b[o * r + k]!;
      if (bk === 0) continue;
      const row = o * fanIn;
      const arow = k * fanIn;
      for (let i = 0; i < fanIn; i++) merged[row + i] += bk * a[arow + i]!;
    }
  }
  return merged;
}
