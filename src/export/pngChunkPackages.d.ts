// Types for the untyped CommonJS PNG chunk packages (each exports one function via module.exports).

declare module 'png-chunks-extract' {
  /** Splits PNG bytes into chunks (IEND included); throws on a bad signature or CRC. */
  export default function extractChunks(data: Uint8Array): { name: string; data: Uint8Array }[];
}

declare module 'png-chunks-encode' {
  /** Joins chunks into PNG bytes, writing signature, lengths and CRCs. */
  export default function encodeChunks(chunks: readonly { name: string; data: Uint8Array }[]): Uint8Array;
}

declare module 'png-chunk-text' {
  /** A tEXt chunk; keyword and text must be Latin-1 without NUL. */
  export function encode(keyword: string, text: string): { name: 'tEXt'; data: Uint8Array };
  /** Keyword and text of a tEXt chunk's data. */
  export function decode(data: Uint8Array): { keyword: string; text: string };
}
