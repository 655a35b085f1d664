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
  weight: 'byShape' | 'conv' | 'im2col' | 'shifts';
  input: 'byShape' | 'convTranspose';
  /** Positions each chunk's MatMul of the stride-1 weight gradient reduces over, at least (whole images per chunk). */
  minChunkPositions: number;
} = {
  weight: 'byShape',
  input: 'byShape',
  minChunkPositions: 2048,
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
 * adjoint, with input/outGrad swapped). With fewer than 4 input channels per group one Conv, which measured
 * fastest on an RGB input conv (bench/convGrad.ts; with few output channels shifts is faster; grouped convs
 * with so few channels are unmeasured); otherwise one MatMul over shifted copies for ungrouped stride-1 convolutions, im2col + MatMul for the rest.
 */
export function convWeightGrad(g: GraphBuilder, input: Tensor, outGrad: Tensor, kernel: readonly number[], c: ConvGeom): Tensor {
  const fewChannels = input.shape[1]! / c.group < 4;
  const mode = convGradFormulation.weight;
  if (mode === 'conv' || (mode === 'byShape' && fewChannels)) return weightGradByConv(g, input, outGrad, kernel, c);
  const shiftsFit = c.group === 1 && c.strides.every((s) => s === 1);
  if (mode === 'shifts' && !shiftsFit) throw new Error('convWeightGrad: the shifts formulation needs stride 1 and one group');
  return mode === 'shifts' || (mode === 'byShape' && shiftsFit)
    ? weightGradByShifts(g, input, outGrad, kernel, c)
    : weightGradByIm2col(g, input, outGrad, kernel, c);
}

/**
 * Stride-1 weight gradient as one MatMul over shifted copies, kW of the input and kH of dy instead of im2col's kH·kW
 * of the input. dW[:, :, i, j] = Σ dy[y, x] · x[y + i·dH − padT, x + j·dW − padL] over the output positions; with
 * r = y + i·dH − padT a row of the input, the sum runs over input rows r and output columns x of
 *   rows_i[r, x] = dy[r + padT − i·dH, x]   (dy moved by whole rows, zero where that leaves dy) and
 *   cols_j[r, x] = x[r, x + j·dW − padL]   (the input moved by columns, zero where that leaves it),
 * so stacking rows_i on the channel axis (kH·Cout) and cols_j (kW·Cin) gives every tap pair from one MatMul
 * [kH·Cout, P] × [P, kW·Cin], P = images·H·oW positions with no padding among them. Images are grouped into
 * chunks whose MatMuls reduce over at least `minChunkPositions` positions each, then summed: a batched MatMul is what
 * threads well (bench/convGrad.ts). Channel-major layouts ([chunk, C, images, rows, columns]) keep every copy
 * a block copy, and the MatMul's transposed operand is folded into it by onnxruntime (FusedMatMul).
 */
function weightGradByShifts(g: GraphBuilder, input: Tensor, outGrad: Tensor, kernel: readonly number[], c: ConvGeom): Tensor {
  const [n, cin, h] = input.shape as [number, number, number, number];
  const [, cout, , ow] = outGrad.shape as [number, number, number, number];
  const [kh, kw] = kernel as [number, number];
  const [dh, dw] = c.dilations as [number, number];
  const [pt, pl] = [c.pads[0]!, c.pads[1]!];
  const perChunk = divisorAtLeast(n, Math.ceil(convGradFormulation.minChunkPositions / (h * ow)));
  const chunks = n / perChunk;
  const channelMajor = (t: Tensor) => {
    const [, ch, a, b] = t.shape as [number, number, number, number];
    const r = g.reshape(t, [chunks, perChunk, ch, a, b]);
    return perChunk > 1 ? g.transpose(r, [0, 2, 1, 3, 4]) : r;
  };
  /** `size` entries of `axis` from `start` on, zero where that runs outside t. */
  const window = (t: Tensor, axis: number, start: number, size: number) => {
    const dim = t.shape[axis]!;
    const [from, to] = [Math.max(start, 0), Math.min(start + size, dim)];
    // A shifted copy wholly outside t (a 3×3 conv of 1×1 images): zeros, without a zero-size tensor.
    if (from >= to)
      return g.expand(
        g.scalar(0, t.dtype),
        t.shape.map((d, i) => (i === axis ? size : d)),
      );
    const cut = from > 0 || to < dim ? g.slice(t, [from], [to], [axis]) : t;
    const pads = new Array<number>(2 * t.rank).fill(0);
    pads[axis] = from - start;
    pads[t.rank + axis] = start + size - to;
    return g.pad(cut, pads);
  };
  const xc = channelMajor(input);
  const cols = Array.from({ length: kw }, (_, j) => window(xc, 4, j * dw - pl, ow));
  const dc = channelMajor(outGrad);
  const rows = Array.from({ length: kh }, (_, i) => window(dc, 3, pt - i * dh, h));
  const positions = perChunk * h * ow;
  const xs = g.reshape(g.concat(cols, 1), [chunks, kw * cin, positions]);
  const ds = g.reshape(g.concat(rows, 1), [chunks, kh * cout, positions]);
  const prod = g.matmul(ds, g.transpose(xs, [0, 2, 1]));
  const summed = chunks > 1 ? g.reduceSum(prod, [0], false) : g.reshape(prod, [kh * cout, kw * cin]);
  return g.transpose(g.reshape(summed, [kh, cout, kw, cin]), [1, 3, 0, 2]);
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
 * thread), except where the input channels are too few for the other forms' copies to pay.
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
