import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeTensor, parseSafetensors, readSafetensors, writeSafetensors, type Float32Tensor } from './safetensors';

const fixture = (p: string) => readFileSync(new URL(`../../fixtures/diffusers-tiny-sd/${p}`, import.meta.url));

/** Builds a file by hand, independently of the writer: header JSON, then the given bytes. */
function handMade(header: object, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors reader', () => {
  it('reads the diffusers fixture: names, shapes and float32 data', () => {
    const file = parseSafetensors(fixture('unet/diffusion_pytorch_model.safetensors'));
    expect(file.metadata.format).toBe('pt');
    const w = file.entries.get('conv_in.weight');
    expect(w).toMatchObject({ dtype: 'F32', shape: [32, 4, 3, 3] });
    const t = decodeTensor(file, 'conv_in.weight');
    expect(t.data.length).toBe(32 * 4 * 3 * 3);
    // GroupNorm weights are initialised to ones by PyTorch and the fixture is untrained.
    expect(Array.from(decodeTensor(file, 'conv_norm_out.weight').data)).toEqual(new Array(32).fill(1));
  });

  it('decodes F16 and BF16 bit patterns (known IEEE values)', () => {
    // 0x3c00 = 1, 0xc000 = -2, 0x7bff = 65504, 0x0001 = 2^-24, 0x7c00 = +inf
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00]);
    // BF16 0x3f80 = 1, 0x4049 = 3.140625, 0xbf00 = -0.5
    const bf16 = new Uint16Array([0x3f80, 0x4049, 0xbf00]);
    const data = new Uint8Array(16);
    data.set(new Uint8Array(f16.buffer), 0);
    data.set(new Uint8Array(bf16.buffer), 10);
    const bytes = handMade({ a: { dtype: 'F16', shape: [5], data_offsets: [0, 10] }, b: { dtype: 'BF16', shape: [3], data_offsets: [10, 16] } }, data);
    const m = readSafetensors(bytes);
    expect(Array.from(m.get('a')!.data)).toEqual([1, -2, 65504, 2 ** -24, Infinity]);
    expect(Array.from(m.get('b')!.data)).toEqual([1, 3.140625, -0.5]);
  });

  it('rejects unsupported dtypes on decode, naming the tensor, and lets callers skip them', () => {
    const bytes = handMade(
      { ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] }, w: { dtype: 'F32', shape: [1], data_offsets: [16, 20] } },
      new Uint8Array(20),
    );
    expect(() => readSafetensors(bytes)).toThrow('tensor "ids" has dtype I64, which is not supported (supported: F32, F16, BF16, F64)');
    expect([...readSafetensors(bytes, (n) => n === 'ids').keys()]).toEqual(['w']);
  });

  it('reports truncated files and header overflow clearly', () => {
    const ok = handMade({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(16));
    expect(() => parseSafetensors(ok.subarray(0, ok.length - 4))).toThrow('tensor "w" ends at byte 16 of a 12-byte data section (truncated file?)');
    expect(() => parseSafetensors(ok.subarray(0, 5))).toThrow('shorter than the 8-byte header length');
    const overflow = handMade({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(16), 1000n);
    expect(() => parseSafetensors(overflow)).toThrow(/header length 1000 overflows the \d+-byte file/);
    const huge = handMade({}, new Uint8Array(0), 2n ** 40n);
    expect(() => parseSafetensors(huge)).toThrow('exceeds the 100000000-byte limit');
    const wrongSize = handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, new Uint8Array(16));
    expect(() => parseSafetensors(wrongSize)).toThrow('tensor "w" spans 16 bytes but F32[3] needs 12');
  });
});

describe('safetensors writer', () => {
  it('round-trips the whole UNet fixture exactly in F32', () => {
    const original = readSafetensors(fixture('unet/diffusion_pytorch_model.safetensors'));
    const back = readSafetensors(writeSafetensors(original));
    expect([...back.keys()]).toEqual([...original.keys()]);
    for (const [name, t] of original) {
      expect(back.get(name)!.shape).toEqual(t.shape);
      // Byte comparison: toEqual over 1.4 M floats takes seconds.
      expect(Buffer.compare(new Uint8Array(back.get(name)!.data.buffer), new Uint8Array(t.data.buffer)), name).toBe(0);
    }
  });

  it('writes an 8-byte-aligned header with format metadata', () => {
    const bytes = writeSafetensors(new Map([['x', { shape: [1], data: new Float32Array([1]) }]]));
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))).__metadata__).toEqual({ format: 'pt' });
  });

  it('rounds to F16 / BF16 to nearest even', () => {
    const values = new Float32Array([1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 2 ** -25, 3 * 2 ** -26, -0.1]);
    const t = new Map<string, Float32Tensor>([['v', { shape: [values.length], data: values }]]);
    const f16 = readSafetensors(writeSafetensors(t, { dtype: 'F16' })).get('v')!.data;
    // ties go to the even mantissa; 65520 overflows half; 2^-25 ties down to 0; 3*2^-26 rounds up to 2^-24
    expect(Array.from(f16)).toEqual([1, 1, 1 + 2 ** -9, Infinity, 0, 2 ** -24, -0.0999755859375]);
    const bf16 = readSafetensors(writeSafetensors(t, { dtype: 'BF16' })).get('v')!.data;
    expect(bf16[0]).toBe(1);
    expect(bf16[6]).toBe(-0.10009765625);
  });
});
