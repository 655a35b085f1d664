/**
 * Reading safetensors files a person hands the studio. src/model/safetensors.ts already bounds the header (100 MB,
 * inside the file), checks every shape against its byte span and every span against the file, and decodes each
 * tensor into a buffer no larger than its span — so a hostile file cannot make it allocate more than its own size.
 * This module turns its errors into InteropErrors and adds what a trained-weights file must also be: float data
 * with no NaN or infinity.
 */
import { decodeTensor, parseSafetensors, type Float32Tensor, type SafetensorsFile } from '../model/safetensors';
import { InteropError } from './interopError';

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** @throws InteropError (key null: it concerns the whole file) when the file is not a well-formed safetensors. */
export function parseUntrusted(file: Uint8Array, what: string): SafetensorsFile {
  try {
    return parseSafetensors(file);
  } catch (e) {
    throw new InteropError(null, `${what} is not a readable safetensors file (${(e as Error).message})`);
  }
}

/** One tensor as float32. @throws InteropError naming the tensor when it is not float or not finite. */
export function decodeChecked(file: SafetensorsFile, key: string): Float32Tensor {
  const dtype = file.entries.get(key)!.dtype;
  if (!FLOAT_DTYPES.has(dtype)) throw new InteropError(key, `dtype ${dtype} is not a float type (F32, F16, BF16 or F64)`);
  const t = decodeTensor(file, key);
  const bad = t.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new InteropError(key, `value ${bad} is ${t.data[bad]} (the weights must be finite numbers)`);
  return t;
}
