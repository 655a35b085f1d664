import { decode as decodePng } from 'fast-png';
import { zlibSync } from 'fflate';
import encodeChunks from 'png-chunks-encode';
import extractChunks from 'png-chunks-extract';
import { describe, expect, it } from 'vitest';
import { formatInfotext, parseInfotext, type Infotext } from './infotext';
import { encodePngWithParameters, encodeRgbaPng, PARAMETERS_KEYWORD, readPngParameters } from './pngImage';
import { embedPngText, readPngText } from './pngText';

const width = 5;
const height = 3;
const rgba = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 37) % 256);
const info: Infotext = {
  prompt: 'a photo of sks dog',
  negativePrompt: 'blurry',
  steps: 25,
  sampler: 'DPM++ 2M',
  cfgScale: 7,
  seed: 123,
  width,
  height,
  extra: {},
};

describe('encodeRgbaPng', () => {
  it('writes a PNG whose pixels decode back unchanged', () => {
    const png = encodeRgbaPng(rgba, width, height);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const decoded = decodePng(png);
    expect([decoded.width, decoded.height, decoded.channels, decoded.depth]).toEqual([width, height, 4, 8]);
    expect(Array.from(decoded.data)).toEqual(Array.from(rgba));
  });

  it('rejects a size that does not match the data', () => {
    expect(() => encodeRgbaPng(rgba, 4, 3)).toThrow(/needs 48 bytes/);
    expect(() => encodeRgbaPng(rgba, 0, 3)).toThrow(/positive/);
  });
});

describe('PNG parameters chunk', () => {
  it('embeds the infotext as a tEXt "parameters" chunk that another PNG reader sees, pixels untouched', () => {
    const png = encodePngWithParameters(rgba, width, height, info);
    const decoded = decodePng(png); // fast-png reads tEXt on its own
    expect(decoded.text[PARAMETERS_KEYWORD]).toBe(formatInfotext(info));
    expect(Array.from(decoded.data)).toEqual(Array.from(rgba));
    const names = extractChunks(png).map((c) => c.name);
    expect(names.indexOf('tEXt')).toBeLessThan(names.indexOf('IDAT'));
    expect(parseInfotext(readPngParameters(png)!)).toMatchObject({ prompt: info.prompt, seed: 123, sampler: 'DPM++ 2M' });
  });

  it('writes non-Latin-1 text as an uncompressed UTF-8 iTXt chunk, as Pillow does', () => {
    const text = 'a photo of 🐶 on the beach — 海';
    const png = embedPngText(encodeRgbaPng(rgba, width, height), 'parameters', text);
    const chunk = extractChunks(png).find((c) => c.name === 'iTXt')!;
    const header = [...new TextEncoder().encode('parameters'), 0, 0, 0, 0, 0];
    expect(Array.from(chunk.data.subarray(0, header.length))).toEqual(header);
    expect(new TextDecoder().decode(chunk.data.subarray(header.length))).toBe(text);
    expect(readPngText(png).parameters).toBe(text);
  });

  it('replaces an earlier chunk with the same keyword and keeps other keywords', () => {
    let png = embedPngText(encodeRgbaPng(rgba, width, height), 'parameters', 'first');
    png = embedPngText(png, 'Software', 'dreambooth-studio');
    png = embedPngText(png, 'parameters', 'second ✓');
    expect(readPngText(png)).toEqual({ parameters: 'second ✓', Software: 'dreambooth-studio' });
    expect(extractChunks(png).filter((c) => c.name === 'tEXt' || c.name === 'iTXt')).toHaveLength(2);
  });

  it('reads zTXt and compressed iTXt chunks written by other tools', () => {
    const chunks = extractChunks(encodeRgbaPng(rgba, width, height));
    const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
    const ztxt = new Uint8Array([...latin1('Comment'), 0, 0, ...zlibSync(latin1('zipped text'))]);
    const itxt = new Uint8Array([...latin1('parameters'), 0, 1, 0, ...latin1('en'), 0, 0, ...zlibSync(new TextEncoder().encode('größe 64x64'))]);
    chunks.splice(1, 0, { name: 'zTXt', data: ztxt }, { name: 'iTXt', data: itxt });
    const png = encodeChunks(chunks);
    expect(readPngText(png)).toEqual({ Comment: 'zipped text', parameters: 'größe 64x64' });
  });

  it('returns undefined without a parameters chunk and throws on bytes that are not a PNG', () => {
    expect(readPngParameters(encodeRgbaPng(rgba, width, height))).toBeUndefined();
    expect(() => readPngText(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/header/);
    const corrupted = encodeRgbaPng(rgba, width, height);
    corrupted[20] ^= 0xff;
    expect(() => embedPngText(corrupted, 'parameters', 'x')).toThrow(/CRC/);
  });

  it('rejects invalid keywords and NUL in text', () => {
    const png = encodeRgbaPng(rgba, width, height);
    expect(() => embedPngText(png, '', 'x')).toThrow(/keyword/);
    expect(() => embedPngText(png, 'k'.repeat(80), 'x')).toThrow(/keyword/);
    expect(() => embedPngText(png, 'parameters', 'a\0b')).toThrow(/NUL/);
  });
});
