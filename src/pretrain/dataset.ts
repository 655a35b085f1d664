/**
 * The pretraining dataset: every source image as 64×64 RGB composited on white (as the studio's photo crop
 * does), its captions, license, and a deterministic train/validation split by emoji identity (the same emoji
 * in another artwork never crosses the split). Written as one raw uint8 file plus a JSON manifest.
 * Node only.
 */
import { Resvg } from '@resvg/resvg-js';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertIndexedToRgb, decode } from 'fast-png';
import { captionsFor, flippable } from './captions';
import { SOURCES, listSourceImages, type SourceImage, type SourceName } from './emojiSources';

export const IMAGE_SIZE = 64;
/** One image in twenty goes to validation. */
const VALIDATION_ONE_IN = 20;

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

/** RGBA (any layout fast-png or resvg yields) → RGB on white, size² pixels. */
function onWhite(rgba: ArrayLike<number>, width: number, height: number, channels: number, depth: number): Uint8Array {
  if (width !== IMAGE_SIZE || height !== IMAGE_SIZE) throw new Error(`expected ${IMAGE_SIZE}×${IMAGE_SIZE}, got ${width}×${height}`);
  const out = new Uint8Array(width * height * 3);
  const max = depth === 16 ? 65535 : 255;
  for (let i = 0; i < width * height; i++) {
    const a = channels === 4 || channels === 2 ? rgba[i * channels + channels - 1]! / max : 1;
    for (let c = 0; c < 3; c++) {
      const v = (channels >= 3 ? rgba[i * channels + c]! : rgba[i * channels]!) / max;
      out[i * 3 + c] = Math.round((v * a + (1 - a)) * 255);
    }
  }
  return out;
}

/** One source image as size²×3 RGB on white. */
export function decodeImage(img: SourceImage): Uint8Array {
  const bytes = readFileSync(img.file);
  if (img.format === 'svg') {
    const r = new Resvg(bytes, { fitTo: { mode: 'width', value: IMAGE_SIZE }, font: { loadSystemFonts: false } }).render();
    return onWhite(r.pixels, r.width, r.height, 4, 8);
  }
  const png = decode(bytes);
  if (png.palette) return onWhite(convertIndexedToRgb(png), png.width, png.height, png.palette[0]!.length, 8);
  return onWhite(png.data, png.width, png.height, png.channels, png.depth);
}

const isValidation = (key: string) => createHash('sha256').update(key).digest().readUInt32LE(0) % VALIDATION_ONE_IN === 0;

/** Builds the dataset into `dir` (manifest written last, through a rename, so a half-built set never looks done). */
export function buildDataset(dir: string, onProgress?: (done: number, total: number) => void): DatasetManifest {
  const list = listSourceImages();
  const pixels = new Uint8Array(list.length * IMAGE_SIZE * IMAGE_SIZE * 3);
  const entries: DatasetEntry[] = [];
  const failed: string[] = [];
  for (const img of list) {
    let rgb: Uint8Array;
    try {
      rgb = decodeImage(img);
    } catch (e) {
      failed.push(`${img.file}: ${(e as Error).message}`);
      continue;
    }
    pixels.set(rgb, entries.length * rgb.length);
    entries.push({
      source: img.source,
      name: img.name,
      category: img.category,
      subcategory: img.subcategory,
      captions: captionsFor(img.name, img.shortNames),
      split: isValidation(img.key) ? 'validation' : 'train',
      flippable: flippable(img.category, img.subcategory, img.name),
    });
    onProgress?.(entries.length + failed.length, list.length);
  }
  if (failed.length > list.length / 100) throw new Error(`${failed.length} images could not be read:\n${failed.slice(0, 10).join('\n')}`);

  const version = (pkg: string) => (JSON.parse(readFileSync(join('node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  const byCategory: Record<string, number> = {};
  for (const e of entries) byCategory[e.category] = (byCategory[e.category] ?? 0) + 1;
  const sources: Record<string, DatasetManifest['sources'][string]> = {};
  for (const [name, s] of Object.entries(SOURCES)) {
    sources[name] = {
      artwork: s.artwork,
      license: s.license,
      package: s.package,
      version: version(s.package),
      images: entries.filter((e) => e.source === name).length,
    };
  }
  const manifest: DatasetManifest = {
    format: 'dreambooth-studio-pretraining-set',
    version: 1,
    size: IMAGE_SIZE,
    images: IMAGES_FILE,
    count: entries.length,
    sources,
    counts: {
      train: entries.filter((e) => e.split === 'train').length,
      validation: entries.filter((e) => e.split === 'validation').length,
      byCategory,
    },
    entries,
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, IMAGES_FILE), pixels.subarray(0, entries.length * IMAGE_SIZE * IMAGE_SIZE * 3));
  writeFileSync(join(dir, 'ATTRIBUTION.md'), attribution(manifest));
  writeFileSync(join(dir, `${MANIFEST_FILE}.tmp`), JSON.stringify(manifest));
  renameSync(join(dir, `${MANIFEST_FILE}.tmp`), join(dir, MANIFEST_FILE));
  return manifest;
}

export function attribution(m: DatasetManifest): string {
  const lines = ['# Image sources and licenses', '', `${m.count} images, ${m.size}×${m.size}, built by \`npm run dataset\`.`, ''];
  for (const [name, s] of Object.entries(m.sources)) {
    lines.push(`- **${s.artwork}** (${s.images} images, npm \`${s.package}\` ${s.version}, ${s.license}): ${SOURCES[name as SourceName].attribution}`);
  }
  return `${lines.join('\n')}\n`;
}

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
