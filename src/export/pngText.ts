import { unzlibSync } from 'fflate';
import extractChunks from 'png-chunks-extract';
import encodeChunks from 'png-chunks-encode';
import { decode as decodeTextChunk, encode as encodeTextChunk } from 'png-chunk-text';

/**
 * PNG text chunks, written the way Pillow (and so AUTOMATIC1111) writes them: `tEXt` when the
 * text is Latin-1, otherwise an uncompressed `iTXt` holding UTF-8. Reading accepts `tEXt`,
 * `zTXt` and `iTXt` (compressed or not).
 */

type Chunk = { name: string; data: Uint8Array };
const TEXT_CHUNKS = new Set(['tEXt', 'zTXt', 'iTXt']);
const utf8 = new TextDecoder('utf-8');

/**
 * Returns new PNG bytes with `text` stored under `keyword`, replacing any earlier chunk with that
 * keyword; the chunk goes before the image data so streaming readers meet it early.
 * @throws if `png` is not a PNG (bad signature, CRC, or missing IEND).
 */
export function embedPngText(png: Uint8Array, keyword: string, text: string): Uint8Array {
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword)) throw new RangeError(`PNG text keyword "${keyword}" must be 1–79 Latin-1 characters`);
  if (text.includes('\0')) throw new RangeError('PNG text cannot contain NUL characters');
  const chunks = extractChunks(png).filter((c) => !(TEXT_CHUNKS.has(c.name) && readTextChunk(c)?.keyword === keyword));
  const chunk = /^[\x00-\xff]*$/.test(text) ? encodeTextChunk(keyword, text) : internationalTextChunk(keyword, text);
  const at = chunks.findIndex((c) => c.name === 'IDAT');
  chunks.splice(at < 0 ? chunks.length - 1 : at, 0, chunk);
  return encodeChunks(chunks);
}

/** Every text entry of a PNG, by keyword (a later chunk with the same keyword wins). */
export function readPngText(png: Uint8Array): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const chunk of extractChunks(png)) {
    const entry = TEXT_CHUNKS.has(chunk.name) ? readTextChunk(chunk) : undefined;
    if (entry) entries[entry.keyword] = entry.text;
  }
  return entries;
}

/** iTXt: keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, UTF-8 text. */
function internationalTextChunk(keyword: string, text: string): Chunk {
  const body = new TextEncoder().encode(text);
  const data = new Uint8Array(keyword.length + 5 + body.length);
  for (let i = 0; i < keyword.length; i++) data[i] = keyword.charCodeAt(i);
  data.set(body, keyword.length + 5); // the five bytes after the keyword are NUL, 0, 0, NUL, NUL
  return { name: 'iTXt', data };
}

function readTextChunk(chunk: Chunk): { keyword: string; text: string } | undefined {
  if (chunk.name === 'tEXt') return decodeTextChunk(chunk.data);
  const data = chunk.data;
  const keywordEnd = data.indexOf(0);
  if (keywordEnd < 0) return undefined;
  const keyword = latin1(data.subarray(0, keywordEnd));
  if (chunk.name === 'zTXt') return { keyword, text: latin1(unzlibSync(data.subarray(keywordEnd + 2))) };
  const compressed = data[keywordEnd + 1] === 1;
  const languageEnd = data.indexOf(0, keywordEnd + 3);
  const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
  if (translatedEnd < 0) return undefined;
  const body = data.subarray(translatedEnd + 1);
  return { keyword, text: utf8.decode(compressed ? unzlibSync(body) : body) };
}

/** ISO-8859-1 bytes to text (TextDecoder's "latin1" is really windows-1252, which differs at 0x80–0x9f). */
function latin1(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}
