/**
 * Hand-made image features for the evaluation's independent scorer (no pretrained image network is reachable
 * here): a coarse colour layout (16×16 RGB), a histogram of gradient orientations over a 4×4 grid of cells
 * (shape), and a colour histogram of the non-white pixels (palette). Images are 64×64×3 uint8 RGB on white.
 */
const SIZE = 64;

function layout(rgb: Uint8Array): number[] {
  const out: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        let s = 0;
        for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) s += rgb[((y * 4 + dy) * SIZE + x * 4 + dx) * 3 + c]!;
        out.push(s / (16 * 255));
      }
    }
  }
  return out;
}

function orientations(rgb: Uint8Array): number[] {
  const gray = new Float32Array(SIZE * SIZE);
  for (let i = 0; i < SIZE * SIZE; i++) gray[i] = (0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!) / 255;
  const BINS = 8;
  const CELLS = 4;
  const hist = new Float64Array(CELLS * CELLS * BINS);
  for (let y = 1; y < SIZE - 1; y++) {
    for (let x = 1; x < SIZE - 1; x++) {
      const gx = gray[y * SIZE + x + 1]! - gray[y * SIZE + x - 1]!;
      const gy = gray[(y + 1) * SIZE + x]! - gray[(y - 1) * SIZE + x]!;
      const mag = Math.hypot(gx, gy);
      if (mag === 0) continue;
      const bin = Math.min(BINS - 1, Math.floor(((Math.atan2(gy, gx) + Math.PI) / (2 * Math.PI)) * BINS));
      const cell = Math.floor((y * CELLS) / SIZE) * CELLS + Math.floor((x * CELLS) / SIZE);
      hist[cell * BINS + bin]! += mag;
    }
  }
  const norm = Math.hypot(...hist) || 1;
  return Array.from(hist, (v) => v / norm);
}

function palette(rgb: Uint8Array): number[] {
  const hist = new Float64Array(64);
  let n = 0;
  for (let i = 0; i < SIZE * SIZE; i++) {
    const [r, g, b] = [rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!];
    if (r > 245 && g > 245 && b > 245) continue;
    hist[(r >> 6) * 16 + (g >> 6) * 4 + (b >> 6)]! += 1;
    n++;
  }
  return Array.from(hist, (v) => (n ? v / n : 0));
}

/** The feature vector of one 64×64 RGB image. */
export function imageFeatures(rgb: Uint8Array): Float64Array {
  if (rgb.length !== SIZE * SIZE * 3) throw new Error(`imageFeatures: expected ${SIZE}×${SIZE}×3 bytes, got ${rgb.length}`);
  return Float64Array.from([...layout(rgb), ...orientations(rgb), ...palette(rgb)]);
}
