/**
 * Writes trained weights into a diffusers model folder (the layout the studio loads): one safetensors file per
 * component, fp16 by default (half the bytes; the studio computes in float32), each written through a rename, so a
 * crash never leaves half a file. Whole exports (src/interop's file maps) go through the same atomic write.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../cli/atomicFile';
import type { ParamLayout } from '../engine/optim/flatParams';
import { WEIGHT_FILES } from '../model/folder';
import { writeSafetensors, type Float32Tensor } from '../model/safetensors';

/** The tensors of `flat` (laid out by `layout`) whose names start with `prefix`, renamed without it. */
export function tensorsOf(layout: ParamLayout, flat: Float32Array, prefix = ''): Map<string, Float32Tensor> {
  const out = new Map<string, Float32Tensor>();
  for (const e of layout.entries) {
    if (e.name.startsWith(prefix)) out.set(e.name.slice(prefix.length), { shape: [...e.shape], data: flat.slice(e.offset, e.offset + e.size) });
  }
  return out;
}

export function writeComponent(
  modelDir: string,
  part: keyof typeof WEIGHT_FILES,
  tensors: Map<string, Float32Tensor>,
  metadata: Record<string, string>,
  dtype: 'F16' | 'F32' = 'F16',
): void {
  writeFileAtomic(join(modelDir, WEIGHT_FILES[part]), writeSafetensors(tensors, { dtype, metadata: { format: 'pt', ...metadata } }));
}

/** Rewrites one key of a component's config.json, keeping the rest (and its formatting style). */
export function setConfigValue(modelDir: string, file: string, key: string, value: unknown): void {
  const path = join(modelDir, file);
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  json[key] = value;
  writeFileAtomic(path, `${JSON.stringify(json, null, 2)}\n`);
}

export function writeJson(modelDir: string, file: string, value: unknown): void {
  writeFileAtomic(join(modelDir, file), `${JSON.stringify(value, null, 2)}\n`);
}

/** Files by path relative to `dir` (e.g. diffusersFolderFiles' or checkpointExport's). */
export function writeFiles(dir: string, files: ReadonlyMap<string, Uint8Array>): void {
  for (const [path, bytes] of files) writeFileAtomic(join(dir, path), bytes);
}
