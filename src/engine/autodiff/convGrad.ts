import { attrInts, attrNum, type GraphBuilder, type GraphNode, type Tensor } from '../graph';

interface ConvGeom {
  strides: readonly number[];
  pads: readonly number[];
  dilations: readonly number[];
  group: number;
}

export function convGeom(n: GraphNode): ConvGeom {
  return {
    strides: attrInts(n, 'strides', [1, 1]),
    pads: attrInts(n, 'pads', [0, 0, 0, 0]),
    dilations: attrInts(n, 'dilations', [1, 1]),
    group: attrNum(n, 'group', 1),
  };
}

/**
 * Which formulations the Conv gradients emit. `byShape` is the product's choice; forcing one exists so that
 * bench/convGrad.ts can compare them and linalg.test.ts can check each against finite differences.
 */
export const convGradFormulation: {
  weight: 'byShape' | 'conv' | 'im2col' | 'taps';
  input: 'byShape' | 'convTranspose';
  /** Positions each tap MatMul of the stride-1 weight gradient reduces over, at least (whole images per chunk). */
  minTapPositions: number;
} = {
  weight: 'byShape',
  input: 'byShape',
  minTapPositions: 2048,
};

/**
 * Gradient of a convolution's input. Stride 1: the same-geometry Conv of dy with the weight flipped
 * in space and transposed (in/out channels swapped), which convolution kernels run up to 2× faster
 * than ConvTranspose (bench/convGrad.ts). Otherwise the transposed convolution of dy with the same
 * weight, output_padding restoring rows/columns the forward stride skipped at the far edge.
 */
export function convInputGrad(g: GraphBuilder, dy: Tensor, w: Tensor, x: Tensor, c: ConvGeom): Tensor {
  const k = w.shape.slice(2);
  const reach = [0, 1].map((i) => (k[i]! - 1) * c.dilations[i]!);
  const convPads = c.pads.map((p, i) => reach[i % 2]! - p);
  if (convGradFormulation.input === 'byShape' && c.strides.every((s) => s === 1) && convPads.every((p) => p >= 0)) {
    return g.conv(dy, flippedTransposed(g, w, c.group), null, { ...c, pads: convPads });
  }
  const outputPadding = [0, 1].map((i) => x.shape[2 + i]! - ((dy.shape[2 + i]! - 1) * c.strides[i]! + reach[i]! + 1 - c.pads[i]! - c.pads[i + 2]!));
  return g.convTranspose(dy, w, null, { ...c, outputPadding });
}

/** [Cout, Cin/G, kH, kW] -> [Cin, Cout/G, kH, kW] reversed in both spatial axes (a reversal of kH·kW: one Gemm). */
function flippedTransposed(g: GraphBuilder, w: Tensor, group: number): Tensor {
  const [cout, cinG, kh, kw] = w.shape as [number, number, number, number];
  const kk = kh * kw;
  const reverse = new Float32Array(kk * kk);
  for (let i = 0; i < kk; i++) reverse[i * kk + kk - 1 - i] = 1;
  const flipped = g.gemm(g.reshape(w, [cout * cinG, kk]), g.constant(reverse, [kk, kk]));
  const t = g.transpose(g.reshape(flipped, [group, cout / group, cinG, kk]), [0, 2, 1, 3]);
  return g.reshape(t, [group * cinG, cout / group, kh, kw]);
}

/**
 * Gradient of a transposed convolution's input: the plain convolution of dy with the same weight.
 */
export function convTransposeInputGrad(g: GraphBuilder, dy: Tensor, w: Tensor, x: Tensor, c: ConvGeom): Tensor {
  const dx = g.conv(dy, w, null, c);
  if (dx.shape[2] !== x.shape[2] || dx.shape[3] !== x.shape[3]) {
    throw new Error(`ConvTranspose gradient: output_padding >= stride is not supported (x ${x.shape}, dx ${dx.shape})`);
  }
  return dx;
}

/**
 * Weight gradient of a convolution from `input` (N, Cin, H, W) to `outGrad` (N, Cout, oH, oW) with
 * weight (Cout, Cin/group, kH, kW). Also serves ConvTranspose (its forward is this convolution's
 * adjoint, with input/outGrad swapped). With fewer than 4 channels per group on either side (RGB in/out
 * convs, depthwise) one Conv, which measured fastest there (bench/convGrad.ts); otherwise one MatMul per
 * kernel tap for ungrouped stride-1 convolutions, im2col + MatMul for the rest.
 */
export function convWeightGrad(g: GraphBuilder, input: Tensor, outGrad: Tensor, kernel: readonly number[], c: ConvGeom): Tensor {
  const fewChannels = Math.min(input.shape[1]!, outGrad.shape[1]!) / c.group < 4;
  const mode = convGradFormulation.weight;
  if (mode === 'conv' || (mode === 'byShape' && fewChannels)) return weightGradByConv(g, input, outGrad, kernel, c);
  const tapsFit = c.group === 1 && c.strides.every((s) => s === 1);
  if (mode === 'taps' && !tapsFit) throw new Error('convWeightGrad: the taps formulation needs stride 1 and one group');
  return mode === 'taps' || (mode === 'byShape' && tapsFit) ? weightGradByTaps(g, input, outGrad, kernel, c) : weightGradByIm2col(g, input, outGrad, kernel, c);
}

/**
 * Stride-1 weight gradient without im2col columns. The input, padded to the Hp×Wp rows and columns the forward
 * read, is flattened per image; output position p then reads tap (i, j) at flat position p + i·dH·Wp + j·dW, so
 * each tap's operand is one contiguous slice and dW[:, :, i, j] = slice · dy, with dy zero-padded to the same
 * Hp×Wp grid (the padding positions contribute nothing). Images are grouped into B chunks, each MatMul of the
 * batch reducing over at least `minTapPositions` positions, then summed: a batched MatMul is what threads well
 * (bench/convGrad.ts). The slices copy the input kH·kW times; im2col copied it that often plus its Concat.
 */
function weightGradByTaps(g: GraphBuilder, input: Tensor, outGrad: Tensor, kernel: readonly number[], c: ConvGeom): Tensor {
  const [n, cin, h, wd] = input.shape as [number, number, number, number];
  const [, cout, oh, ow] = outGrad.shape as [number, number, number, number];
  const [kh, kw] = kernel as [number, number];
  const [dh, dw] = c.dilations as [number, number];
  const [hp, wp] = [oh + (kh - 1) * dh, ow + (kw - 1) * dw];
  const area = hp * wp;
  const perChunk = divisorAtLeast(n, Math.ceil(convGradFormulation.minTapPositions / area));
  const chunks = n / perChunk;
  const positions = perChunk * area;
  const reach = (kh - 1) * dh * wp + (kw - 1) * dw;
  // [N, Cin, H, W] -> padded [N, Cin, Hp, Wp] -> [B, Cin, (N/B)·Hp·Wp], flat tail padded for the last taps' reach.
  const xp = g.pad(input, [0, 0, c.pads[0]!, c.pads[1]!, 0, 0, hp - h - c.pads[0]!, wp - wd - c.pads[1]!]);
  const xr = g.reshape(xp, [chunks, perChunk, cin, area]);
  const xc = perChunk > 1 ? g.transpose(xr, [0, 2, 1, 3]) : xr;
  const xf = g.pad(g.reshape(xc, [chunks, cin, positions]), [0, 0, 0, 0, 0, reach]);
  // [N, Cout, oH, oW] -> zero-padded [N, Hp, Wp, Cout] -> [B, (N/B)·Hp·Wp, Cout]
  const dyp = g.pad(outGrad, [0, 0, 0, 0, 0, 0, hp - oh, wp - ow]);
  const dyf = g.reshape(g.transpose(dyp, [0, 2, 3, 1]), [chunks, positions, cout]);
  const taps: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const at = i * dh * wp + j * dw;
      taps.push(g.matmul(g.slice(xf, [at], [at + positions], [2]), dyf));
    }
  }
  // kH·kW × [B, Cin, Cout] -> [kH·kW, Cin, Cout] -> [Cout, Cin, kH, kW]
  const stacked = g.reshape(g.concat(taps, 0), [kh * kw, chunks, cin, cout]);
  const summed = chunks > 1 ? g.reduceSum(stacked, [1], false) : stacked;
  return g.transpose(g.reshape(summed, [kh, kw, cin, cout]), [3, 2, 0, 1]);
}

/** The smallest divisor of n that is at least k (n when k > n). */
function divisorAtLeast(n: number, k: number): number {
  for (let d = Math.max(1, k); d < n; d++) if (n % d === 0) return d;
  return n;
}

/** Padding after the last row/column the forward pass actually read, per spatial axis (negative: it stopped short). */
function farPadding(spatial: readonly number[], outSpatial: readonly number[], kernel: readonly number[], c: ConvGeom): number[] {
  return [0, 1].map((i) => (outSpatial[i]! - 1) * c.strides[i]! + (kernel[i]! - 1) * c.dilations[i]! + 1 - spatial[i]! - c.pads[i]!);
}

/**
 * Weight gradient as im2col + one MatMul: the input in [G, N, H, W, Cin/G] layout, padded, cut into
 * the kH·kW shifted (strided) windows the forward read, concatenated along channels into columns
 * [G, N·oH·oW, kH·kW·Cin/G], times outGrad [G, Cout/G, N·oH·oW]. The reduction runs over
 * N·oH·oW, where GEMM kernels are fast.
 */
function weightGradByIm2col(g: GraphBuilder, input: Tensor, outGrad: Tensor, kernel: readonly number[], c: ConvGeom): Tensor {
  const [n, cin, h, wd] = input.shape as [number, number, number, number];
  const [, cout, oh, ow] = outGrad.shape as [number, number, number, number];
  const G = c.group;
  const [kh, kw] = kernel as [number, number];
  const farPad = farPadding([h, wd], [oh, ow], kernel, c);
  // [N, Cin, H, W] -> [G, N, H, W, Cin/G], then the forward's zero padding (only as far as it read).
  const xl = g.transpose(g.reshape(input, [n, G, cin / G, h, wd]), [1, 0, 3, 4, 2]);
  const xp = g.pad(xl, [0, 0, c.pads[0]!, c.pads[1]!, 0, 0, 0, Math.max(farPad[0]!, 0), Math.max(farPad[1]!, 0), 0]);
  const windows: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const s = [i * c.dilations[0]!, j * c.dilations[1]!];
      windows.push(g.slice(xp, s, [s[0]! + (oh - 1) * c.strides[0]! + 1, s[1]! + (ow - 1) * c.strides[1]! + 1], [2, 3], c.strides));
    }
  }
  const cols = g.reshape(g.concat(windows, 4), [G, n * oh * ow, kh * kw * (cin / G)]);
  // [N, Cout, oH, oW] -> [G, Cout/G, N·oH·oW]
  const dy = g.reshape(g.transpose(g.reshape(outGrad, [n, G, cout / G, oh * ow]), [1, 2, 0, 3]), [G, cout / G, n * oh * ow]);
  // [G, Cout/G, kH·kW·Cin/G] -> [Cout, Cin/G, kH, kW]
  const dw = g.reshape(g.matmul(dy, cols), [cout, kh, kw, cin / G]);
  return g.transpose(dw, [0, 3, 1, 2]);
}

/**
 * The weight gradient as one Conv: the input (batch and channel axes swapped) convolved
 * with outGrad as the kernel, the forward stride becoming the dilation and vice versa. The far-edge
 * padding is trimmed to exactly what the forward pass read (cropped when negative). onnxruntime's Conv
 * runs this image-sized kernel slowly (1.4–10× im2col's time on wasm, barely faster with a second
 * thread), except where the channels are too few for im2col's copies to pay.
 */
function weightGradByConv(g: GraphBuilder, input: Tensor, outGrad: Tensor, kernel: readonly number[], c: ConvGeom): Tensor {
  const [n, cin, h, wd] = input.shape as [number, number, number, number];
  const [, , oh, ow] = outGrad.shape as [number, number, number, number];
  const G = c.group;
  const spatial = [h, wd];
  const farPad = farPadding(spatial, [oh, ow], kernel, c);
  let x = input;
  if (farPad.some((p) => p < 0)) {
    x = g.slice(
      x,
      [0, 0],
      farPad.map((p, i) => spatial[i]! + Math.min(p, 0)),
      [2, 3],
    );
  }
  // [N, Cin, H, W] -> [Cin/G, G*N, H, W]: batch axis becomes channels, grouped per conv group.
  const xs = x.shape.slice(2);
  const xt = G === 1 ? g.transpose(x, [1, 0, 2, 3]) : g.reshape(g.transpose(g.reshape(x, [n, G, cin / G, ...xs]), [2, 1, 0, 3, 4]), [cin / G, G * n, ...xs]);
  // [N, Cout, oH, oW] -> [Cout, N, oH, oW] (group-major, as the grouped Conv expects).
  const dyt = g.transpose(outGrad, [1, 0, 2, 3]);
  const dw = g.conv(xt, dyt, null, {
    strides: c.dilations,
    dilations: c.strides,
    pads: [c.pads[0]!, c.pads[1]!, Math.max(farPad[0]!, 0), Math.max(farPad[1]!, 0)],
    group: G,
  });
  // [Cin/G, Cout, kH, kW] -> [Cout, Cin/G, kH, kW]
  return g.transpose(dw, [1, 0, 2, 3]);
}
