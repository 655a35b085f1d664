/**
 * The pretraining dataset's format and loader: 64×64 RGB images composited on white, their captions, licenses and
 * train/validation split, as one raw uint8 file plus a JSON manifest (written by datasetBuilder.ts). Kept apart
 * from the builder so that training tools load it without the builder's native SVG renderer. Node only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceName } from './emojiSources';

export const IMAGE_SIZE = 64;

export interface DatasetEntry {
  readonly source: SourceName;
  readonly name: string;
  readonly category: string;
  readonly subcategory: string;
  readonly captions: readonly string[];
  readonly split: 'train' | 'validation';
  readonly flippable: boolean;
}

export interface DatasetManifest {
  readonly format: 'dreambooth-studio-pretraining-set';
  readonly version: 1;
  readonly size: number;
  /** Images file: `count` × size × size × 3 bytes, RGB, row-major. */
  readonly images: string;
  readonly count: number;
  readonly sources: Readonly<Record<string, { artwork: string; license: string; package: string; version: string; images: number }>>;
  readonly counts: { readonly train: number; readonly validation: number; readonly byCategory: Readonly<Record<string, number>> };
  readonly entries: readonly DatasetEntry[];
}

export const MANIFEST_FILE = 'manifest.json';
export const IMAGES_FILE = 'images.u8';

/** The built dataset: manifest and pixels. */
export interface LoadedDataset {
  readonly manifest: DatasetManifest;
  readonly pixels: Uint8Array;
}

export function loadDataset(dir: string): LoadedDataset {
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as DatasetManifest;
  } catch {
    throw new Error(`no dataset in ${dir}: run \`npm run dataset\` first`);
  }
  if (manifest.format !== 'dreambooth-studio-pretraining-set') throw new Error(`${dir}/${MANIFEST_FILE} is not a pretraining set manifest`);
  const pixels = new Uint8Array(readFileSync(join(dir, manifest.images)));
  if (pixels.length !== manifest.count * manifest.size * manifest.size * 3)
    throw new Error(`${dir}/${manifest.images} is truncated: rebuild with \`npm run dataset\``);
  return { manifest, pixels };
}
