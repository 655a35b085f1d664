import { encodeRgbaPng } from '../export/pngImage';

/**
 * Stable Diffusion 1.x's latent → RGB factors (rows: latent channels 0–3; columns R, G, B), as ComfyUI's
 * Latent2RGB previewer uses them: a fixed linear map that shows an x0 estimate's colours and layout for
 * almost nothing, instead of a VAE decode per preview. Models with other than 4 latent channels use the
 * channel mean as grey.
 */
export const SD1_LATENT_RGB_FACTORS: readonly (readonly [number, number, number])[] = [
  [0.3512, 0.2297, 0.3227],
  [0.325, 0.4974, 0.235],
  [-0.2829, 0.1762, 0.2721],
  [-0.212, -0.2616, -0.7177],
];

/** RGBA bytes (latent resolution) of image `index` in a `[batch, channels, h, w]` latent tensor. */
export function latentPreviewRgba(latents: Float32Array, index: number, channels: number, height: number, width: number): Uint8Array {
  const plane = height * width;
  const base = index * channels * plane;
  if (latents.length < base + channels * plane) throw new RangeError(`latents hold no image ${index} of ${channels}×${height}×${width}`);
  const rgba = new Uint8Array(plane * 4);
  const toByte = (v: number) => Math.round(Math.min(Math.max((v + 1) / 2, 0), 1) * 255);
  for (let i = 0; i < plane; i++) {
    const rgb = [0, 0, 0];
    for (let c = 0; c < channels; c++) {
      const v = latents[base + c * plane + i]!;
      const f = channels === SD1_LATENT_RGB_FACTORS.length ? SD1_LATENT_RGB_FACTORS[c]! : [1 / channels, 1 / channels, 1 / channels];
      for (let k = 0; k < 3; k++) rgb[k]! += v * f[k]!;
    }
    rgba.set([toByte(rgb[0]!), toByte(rgb[1]!), toByte(rgb[2]!), 255], i * 4);
  }
  return rgba;
}

/** PNG previews of every image in a latent batch. */
export function latentPreviewPngs(latents: Float32Array, batch: number, channels: number, height: number, width: number): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (let i = 0; i < batch; i++) {
    const png = encodeRgbaPng(latentPreviewRgba(latents, i, channels, height, width), width, height);
    out.push(png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength) as ArrayBuffer);
  }
  return out;
}
