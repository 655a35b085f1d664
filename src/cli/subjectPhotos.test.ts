import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { readSubjectPhotos } from './subjectPhotos';

const root = mkdtempSync(join(tmpdir(), 'subject-photos-'));
const emoji = (code: string) => `node_modules/emoji-datasource-google/img/google/64/${code}.png`;
const grey = (side: number) => encode({ width: side, height: side, data: new Uint8Array(side * side * 3).fill(128), channels: 3, depth: 8 });
function dir(name: string, files: Record<string, string | Uint8Array>): string {
  const d = join(root, name);
  mkdirSync(d);
  for (const [file, source] of Object.entries(files)) {
    if (typeof source === 'string') copyFileSync(source, join(d, file));
    else writeFileSync(join(d, file), source);
  }
  return d;
}
const three = { 'a.png': emoji('1f431'), 'b.png': emoji('1f638'), 'c.png': emoji('1f63a') };

describe('subject photos from a folder (the studio’s rules)', () => {
  it('crops each photo to the model’s square PNG, transparent parts on white', async () => {
    const photos = await readSubjectPhotos(dir('ok', three), 64);
    expect(photos.map((p) => p.fileName)).toEqual(['a.png', 'b.png', 'c.png']);
    const crop = decode(photos[0]!.crop);
    expect(crop).toMatchObject({ width: 64, height: 64, channels: 3 });
    // The emoji's transparent corner comes out white.
    expect(Array.from(crop.data.subarray(0, 3))).toEqual([255, 255, 255]);
    expect(photos[0]!.transparent).toBe(true);
  });

  it('refuses what the studio refuses, with its sentences', async () => {
    await expect(readSubjectPhotos(dir('small', { ...three, 'd.png': grey(32) }), 64)).rejects.toThrow(
      'd.png is only 32×32; its shorter side must be at least 64 px',
    );
    await expect(readSubjectPhotos(dir('dup', { ...three, 'd.png': emoji('1f431') }), 64)).rejects.toThrow(
      'd.png is the same file as a.png, already in this subject.',
    );
    await expect(readSubjectPhotos(dir('text', { ...three, 'notes.png': new TextEncoder().encode('not a picture at all') }), 64)).rejects.toThrow(
      'notes.png is a text file, not a photo the studio can read.',
    );
    await expect(readSubjectPhotos(dir('empty', { ...three, 'e.png': new Uint8Array() }), 64)).rejects.toThrow('e.png is empty (0 bytes).');
    await expect(readSubjectPhotos(join(root, 'missing'), 64)).rejects.toMatchObject({ exitCode: 2 });
    const six = { ...three, 'd.png': emoji('1f408'), 'e.png': emoji('1f63b'), 'f.png': emoji('1f63c') };
    await expect(readSubjectPhotos(dir('six', six), 64)).rejects.toThrow('holds 6 files; the studio trains on 3–5 photos');
  });
});
