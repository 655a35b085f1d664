import { describe, expect, test } from 'vitest';
import { captionsFor, flippable } from './captions';
import { IMAGE_SIZE } from './dataset';
import { decodeImage } from './datasetBuilder';
import { listSourceImages, SOURCES } from './emojiSources';

describe('pretraining dataset sources', () => {
  const list = listSourceImages();

  test('every source contributes its artwork, with names, categories and a split key', () => {
    for (const source of Object.keys(SOURCES)) expect(list.filter((i) => i.source === source).length).toBeGreaterThan(1500);
    const dog = list.filter((i) => i.name === 'dog face');
    expect(dog.map((i) => i.source).sort()).toEqual(['fluent-color', 'fluent-flat', 'noto', 'twemoji']);
    // Fluent files are matched to the emoji table, so the same emoji has one split key in every artwork.
    expect(new Set(dog.map((i) => i.key)).size).toBe(1);
    expect(dog.every((i) => i.category === 'Animals & Nature')).toBe(true);
    expect(list.some((i) => /-(light|medium-light|medium|medium-dark|dark)\.svg$/.test(i.file))).toBe(false);
  });

  test('images decode to 64×64 RGB with transparency composited on white', () => {
    for (const source of Object.keys(SOURCES)) {
      const img = list.find((i) => i.source === source && i.name === 'red apple')!;
      const rgb = decodeImage(img);
      expect(rgb.length).toBe(IMAGE_SIZE * IMAGE_SIZE * 3);
      // Corners are transparent in the artwork: white after compositing. The centre is the apple: mostly red.
      expect([...rgb.subarray(0, 3)]).toEqual([255, 255, 255]);
      const centre = ((IMAGE_SIZE / 2) * IMAGE_SIZE + IMAGE_SIZE / 2) * 3;
      expect(rgb[centre]!).toBeGreaterThan(rgb[centre + 1]! + 60);
    }
  });
});

describe('captions', () => {
  test('templates give true captions, with the class prompt form DreamBooth uses', () => {
    const c = captionsFor('red apple', ['apple']);
    expect(c).toContain('a photo of a red apple');
    expect(c).toContain('a photo of apple');
    expect(c).toContain('an emoji of an apple');
    expect(new Set(c).size).toBe(c.length);
  });

  test('flips only where the picture stays true to its caption', () => {
    expect(flippable('Animals & Nature', 'animal-mammal', 'dog face')).toBe(true);
    expect(flippable('Flags', 'country-flag', 'flag of france')).toBe(false);
    expect(flippable('Symbols', 'arrow', 'left arrow')).toBe(false);
    expect(flippable('Travel & Places', 'time', 'mantelpiece clock')).toBe(false);
    expect(flippable('People & Body', 'hand-single-finger', 'backhand index pointing left')).toBe(false);
  });
});
