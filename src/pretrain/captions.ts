/**
 * Captions for the pretraining images. Each image gets several true captions built from its name and short
 * names through templates; training draws one at random each time it sees the image. The "a photo of …"
 * forms are there because DreamBooth's class prompt is "a photo of ⟨class⟩".
 */
const TEMPLATES = [
  'a photo of {a} {n}',
  'a photo of {n}',
  'an emoji of {a} {n}',
  '{a} {n} emoji',
  'a cartoon {n}',
  '{a} {n} icon',
  'a picture of {a} {n}',
  'a drawing of {a} {n}',
  '{n}',
] as const;

const article = (n: string) => (/^[aeiou]/.test(n) ? 'an' : 'a');

/** Every caption of an image named `name` (with alternative `shortNames`), deduplicated, in a fixed order. */
export function captionsFor(name: string, shortNames: readonly string[]): string[] {
  const names = [name, ...shortNames.filter((s) => s !== name && !/^flag /.test(s) && s.length > 1)];
  const out = new Set<string>();
  for (const n of names) for (const t of TEMPLATES) out.add(t.replace('{a}', article(n)).replace('{n}', n));
  return [...out];
}

/**
 * Whether a horizontal flip keeps the captions true: not for flags, arrows, letters and numbers, clock faces
 * (the time would change), or anything named for a direction.
 */
export function flippable(category: string, subcategory: string, name: string): boolean {
  if (category === 'Flags' || category === 'Symbols') return false;
  if (/flag|arrow|time|keycap|alphanum/.test(subcategory)) return false;
  return !/\b(left|right|clock|o’clock|oclock|letter|text|sign|numbers?|input)\b/.test(name);
}
