/**
 * The captioned image sources the built-in model is pretrained on: emoji artwork that npm packages ship,
 * with each image's license. Node only (reads node_modules).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type SourceName = 'noto' | 'twemoji' | 'fluent-flat' | 'fluent-color';

export interface SourceInfo {
  readonly package: string;
  readonly artwork: string;
  readonly license: string;
  /** What the license asks of us; the dataset's ATTRIBUTION.md repeats it. */
  readonly attribution: string;
}

export const SOURCES: Readonly<Record<SourceName, SourceInfo>> = {
  noto: {
    package: 'emoji-datasource-google',
    artwork: 'Noto Emoji by Google',
    license: 'Apache-2.0',
    attribution: 'Noto Emoji images © Google Inc., licensed under the Apache License 2.0 (https://github.com/googlefonts/noto-emoji).',
  },
  twemoji: {
    package: 'emoji-datasource-twitter',
    artwork: 'Twemoji by Twitter, Inc and other contributors',
    license: 'CC-BY-4.0',
    attribution:
      'Twemoji graphics © Twitter, Inc and other contributors, licensed under CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/); resized to 64×64 and composited on white.',
  },
  'fluent-flat': {
    package: 'fluentui-emoji',
    artwork: 'Fluent Emoji (flat) by Microsoft',
    license: 'MIT',
    attribution: 'Fluent Emoji © Microsoft Corporation, MIT License (https://github.com/microsoft/fluentui-emoji); rasterized to 64×64.',
  },
  'fluent-color': {
    package: 'fluentui-emoji',
    artwork: 'Fluent Emoji (color) by Microsoft',
    license: 'MIT',
    attribution: 'Fluent Emoji © Microsoft Corporation, MIT License (https://github.com/microsoft/fluentui-emoji); rasterized to 64×64.',
  },
};

/** One image before decoding: where it is, what it shows. */
export interface SourceImage {
  readonly source: SourceName;
  readonly file: string;
  readonly format: 'png' | 'svg';
  /** Identity of the emoji across sources (its Unicode sequence or normalized name): the train/validation split key. */
  readonly key: string;
  /** Human name, lower case ("dog face"). */
  readonly name: string;
  readonly shortNames: readonly string[];
  readonly category: string;
  readonly subcategory: string;
}

interface EmojiJson {
  name: string;
  unified: string;
  image: string;
  short_names: string[];
  category: string;
  subcategory: string;
  has_img_google: boolean;
  has_img_twitter: boolean;
}

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** "DOG FACE" / "dog-face" / "Andorra Flag" → a comparable slug. */
export const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[’']/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** Emoji names as people say them: "andorra flag" → "flag of andorra", "family: man, woman" kept. */
function humanName(e: EmojiJson): string {
  const n = e.name.toLowerCase();
  return e.category === 'Flags' && n.endsWith(' flag') ? `flag of ${n.slice(0, -' flag'.length)}` : n;
}

function emojiTable(): EmojiJson[] {
  return (JSON.parse(readFileSync(join(packageDir('emoji-datasource-google'), 'emoji.json'), 'utf8')) as EmojiJson[]).filter((e) => e.category !== 'Component');
}

/** Every image of every source (skin-tone variants left out: they would multiply people ×5). */
export function listSourceImages(): SourceImage[] {
  const table = emojiTable();
  const out: SourceImage[] = [];
  const fromTable = (e: EmojiJson, source: 'noto' | 'twemoji', dir: string): SourceImage => ({
    source,
    file: join(dir, e.image),
    format: 'png',
    key: e.unified.toLowerCase(),
    name: humanName(e),
    shortNames: e.short_names.map((s) => s.replace(/[_-]+/g, ' ')),
    category: e.category,
    subcategory: e.subcategory,
  });
  const google = join(packageDir('emoji-datasource-google'), 'img/google/64');
  const twitter = join(packageDir('emoji-datasource-twitter'), 'img/twitter/64');
  for (const e of table) if (e.has_img_google) out.push(fromTable(e, 'noto', google));
  for (const e of table) if (e.has_img_twitter) out.push(fromTable(e, 'twemoji', twitter));

  // Fluent names its files by the emoji's name; match them to the table for categories and the split key.
  const bySlug = new Map<string, EmojiJson>();
  for (const e of table) {
    bySlug.set(slug(e.name), e);
    if (e.category === 'Flags') bySlug.set(slug(`flag ${e.name.replace(/ flag$/i, '')}`), e);
  }
  const fluent = join(packageDir('fluentui-emoji'), 'icons');
  const skinTone = /-(light|medium-light|medium|medium-dark|dark)$/;
  for (const [style, source] of [
    ['flat', 'fluent-flat'],
    ['modern', 'fluent-color'],
  ] as const) {
    for (const f of readdirSync(join(fluent, style)).sort()) {
      const base = f.replace(/\.svg$/, '');
      if (skinTone.test(base)) continue;
      const s = base.replace(/-default$/, '');
      const e = bySlug.get(s);
      out.push({
        source,
        file: join(fluent, style, f),
        format: 'svg',
        key: e ? e.unified.toLowerCase() : `fluent:${s}`,
        name: e ? humanName(e) : s.replace(/-/g, ' '),
        shortNames: e ? e.short_names.map((n) => n.replace(/[_-]+/g, ' ')) : [],
        category: e?.category ?? 'Other',
        subcategory: e?.subcategory ?? 'other',
      });
    }
  }
  return out;
}
