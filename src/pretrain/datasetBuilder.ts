/**
 * Builds the pretraining dataset (`npm run dataset`): every source image as 64×64 RGB composited on white (as the
 * studio's photo crop does), its captions, license, and a deterministic train/validation split by emoji identity
 * (the same emoji in another artwork never crosses the split). Node only.
 */
import { Resvg } from '@resvg/resvg-js';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertIndexedToRgb, decode } from 'fast-png';
import { captionsFor, flippable } from './captions';
import { IMAGE_SIZE, IMAGES_FILE, MANIFEST_FILE, type DatasetEntry, type DatasetManifest } from './dataset';
import { SOURCES, listSourceImages, type SourceImage, type SourceName } from './emojiSources';

/** One image in twenty goes to validation. */
const VALIDATION_ONE_IN = 20;

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
