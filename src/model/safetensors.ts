/**
 * Safetensors (https://github.com/huggingface/safetensors) reader and writer.
 *
 * Layout: u64 little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}`,
 * then the raw little-endian tensor bytes (offsets are relative to the end of the header).
 * Every weight is handed to the graph builder as float32, so F32, F16, BF16 and F64 decode to Float32Array.
 */

/** Float dtypes this module decodes; other safetensors dtypes are listed but rejected on decode. */
export type FloatDType = 'F32' | 'F16' | 'BF16' | 'F64';
const BYTES_PER_ELEMENT: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};
/** A header larger than this is refused rather than parsed (the reference implementation caps it at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

export interface TensorEntry {
  dtype: string;
  shape: number[];
  /** Byte range inside the file (absolute, not relative to the data section). */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  /** Header entries in file order, not yet decoded. */
  entries: Map<string, TensorEntry>;
  bytes: Uint8Array;
}

/** A float32 tensor as the model code handles it: row-major data and its shape. */
export interface Float32Tensor {
  shape: number[];
  data: Float32Array;
}

function fail(what: string): never {
  throw new Error(`safetensors: ${what}`);
}

/**
 * Parses and checks the header; tensor data is decoded lazily by {@link decodeTensor}
 * so that a file holding, say, an int64 buffer still loads its float weights.
 */
export function parseSafetensors(buffer: ArrayBuffer | Uint8Array): SafetensorsFile {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  if (bytes.byteLength < 8) fail(`file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLength);
  if (8 + n > bytes.byteLength) fail(`header length ${n} overflows the ${bytes.byteLength}-byte file (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLength = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries = new Map<string, TensorEntry>();
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const { dtype, shape, data_offsets: offsets } = info ?? {};
    if (typeof dtype !== 'string' || !(dtype in BYTES_PER_ELEMENT)) fail(`tensor "${name}" has unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [b, e] = offsets as [number, number];
    const expected = (shape as number[]).reduce((a, d) => a * d, 1) * BYTES_PER_ELEMENT[dtype];
    if (e - b !== expected) fail(`tensor "${name}" spans ${e - b} bytes but ${dtype}${JSON.stringify(shape)} needs ${expected}`);
    if (e > dataLength) fail(`tensor "${name}" ends at byte ${e} of a ${dataLength}-byte data section (truncated file?)`);
    entries.set(name, { dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e });
  }
  return { metadata, entries, bytes };
}

/** Decodes one tensor to float32; throws naming the tensor if it is missing or not a float dtype. */
export function decodeTensor(file: SafetensorsFile, name: string): Float32Tensor {
  const entry = file.entries.get(name);
  if (!entry) fail(`no tensor named "${name}"`);
  const count = (entry.end - entry.begin) / BYTES_PER_ELEMENT[entry.dtype];
  // Copy into a fresh, aligned buffer: offsets inside the file need not be multiples of the element size.
  // (Uint8Array.prototype.slice, since Node's Buffer.slice would return a view.)
  const raw = Uint8Array.prototype.slice.call(file.bytes, entry.begin, entry.end);
  const out = new Float32Array(count);
  switch (entry.dtype) {
    case 'F32':
      out.set(new Float32Array(raw.buffer, 0, count));
      break;
    case 'F64':
      out.set(new Float64Array(raw.buffer, 0, count));
      break;
    case 'F16': {
      const h = new Uint16Array(raw.buffer, 0, count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(h[i]);
      break;
    }
    case 'BF16': {
      const h = new Uint16Array(raw.buffer, 0, count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = h[i] << 16;
      break;
    }
    default:
      fail(`tensor "${name}" has dtype ${entry.dtype}, which is not supported (supported: F32, F16, BF16, F64)`);
  }
  return { shape: entry.shape.slice(), data: out };
}

/** Reads every tensor of a file as float32, except the names `skip` accepts (e.g. integer buffers). */
export function readSafetensors(buffer: ArrayBuffer | Uint8Array, skip: (name: string) => boolean = () => false): Map<string, Float32Tensor> {
  const file = parseSafetensors(buffer);
  const out = new Map<string, Float32Tensor>();
  for (const name of file.entries.keys()) if (!skip(name)) out.set(name, decodeTensor(file, name));
  return out;
}

export interface WriteOptions {
  /** Stored dtype; float32 values are rounded to nearest even for F16/BF16. Default F32. */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Defaults to `{format: 'pt'}`, which diffusers' and transformers' loaders require. */
  metadata?: Record<string, string>;
}

/** Serializes float32 tensors (in the map's order) to a safetensors file. */
export function writeSafetensors(tensors: Map<string, Float32Tensor>, options: WriteOptions = {}): Uint8Array {
  const dtype = options.dtype ?? 'F32';
  const size = BYTES_PER_ELEMENT[dtype];
  const header: Record<string, unknown> = { __metadata__: options.metadata ?? { format: 'pt' } };
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (count !== t.data.length) throw new Error(`safetensors: tensor "${name}" has ${t.data.length} values but shape ${JSON.stringify(t.shape)}`);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + count * size] };
    offset += count * size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces to a multiple of 8 so that the data section is aligned (as the reference writer does).
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors.values()) {
    const bytes = encode(t.data, dtype);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

function encode(data: Float32Array, dtype: 'F32' | 'F16' | 'BF16'): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = new Uint16Array(data.length);
  const bits = new Uint32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  for (let i = 0; i < data.length; i++) out[i] = dtype === 'F16' ? floatToHalf(bits[i]) : floatToBfloat(bits[i]);
  return new Uint8Array(out.buffer);
}

/** IEEE half → float, including subnormals, infinities and NaN. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float32 bits → IEEE half bits, round to nearest even, overflow to infinity. */
export function floatToHalf(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  const mant = f & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal half: shift the mantissa (with its implicit 1) right, rounding to nearest even.
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let r = m >>> shift;
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++; // may carry into the exponent, which is still correct
  return sign | r;
}

function floatToBfloat(f: number): number {
  if ((f & 0x7f800000) === 0x7f800000 && f & 0x7fffff) return (f >>> 16) | 0x40; // keep NaN a NaN
  return ((f + 0x7fff + ((f >>> 16) & 1)) >>> 16) & 0xffff;
}
