/**
 * Training images as the VAE encoder takes them: PNG bytes (the studio's own square crops and class images) →
 * [3, size, size] float32 in [−1, 1], alpha composited on white, resized by area averaging when the PNG is larger
 * than the model's size. Pure JS (fast-png), so the worker and Node tests decode alike.
 */
import { decode } from 'fast-png';

export function pngToModelInput(png: Uint8Array, size: number, what: string): Float32Array {
  const img = decode(png);
  if (img.palette) throw new Error(`${what}: indexed-colour PNGs are not supported; the studio stores RGB crops`);
  const { width, height, channels } = img;
  if (width !== height) throw new Error(`${what}: the image is ${width}×${height}, not square`);
  if (width < size) throw new Error(`${what}: the image is ${width}×${width}, smaller than the model's ${size}×${size}`);
  const max = img.depth === 16 ? 65535 : 255;
  const rgb = new Float32Array(3 * width * height);
  const plane = width * height;
  for (let i = 0; i < plane; i++) {
    const px = (c: number) => img.data[i * channels + c]! / max;
    const alpha = channels === 4 || channels === 2 ? px(channels - 1) : 1;
    for (let c = 0; c < 3; c++) {
      const v = channels >= 3 ? px(c) : px(0);
      rgb[c * plane + i] = v * alpha + (1 - alpha);
    }
  }
  const out = width === size ? rgb : areaResize(rgb, width, size);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * 2 - 1;
  return out;
}

/** Box-filter resize of a [3, from, from] image to [3, to, to] (each output pixel averages the input area it covers). */
function areaResize(src: Float32Array, from: number, to: number): Float32Array {
  const out = new Float32Array(3 * to * to);
  const scale = from / to;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < to; y++) {
      const y0 = y * scale;
      const y1 = y0 + scale;
      for (let x = 0; x < to; x++) {
        const x0 = x * scale;
        const x1 = x0 + scale;
        let sum = 0;
        for (let sy = Math.floor(y0); sy < Math.ceil(y1); sy++) {
          const wy = Math.min(sy + 1, y1) - Math.max(sy, y0);
          for (let sx = Math.floor(x0); sx < Math.ceil(x1); sx++) {
            const wx = Math.min(sx + 1, x1) - Math.max(sx, x0);
            sum += wy * wx * src[c * from * from + sy * from + sx]!;
          }
        }
        out[c * to * to + y * to + x] = sum / (scale * scale);
      }
    }
  }
  return out;
}

/** The mirror image of a [C, h, w] array (horizontal flip). */
export function mirror(chw: Float32Array, channels: number, height: number, width: number): Float32Array {
  const out = new Float32Array(chw.length);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const row = (c * height + y) * width;
      for (let x = 0; x < width; x++) out[row + x] = chw[row + width - 1 - x]!;
    }
  }
  return out;
}
