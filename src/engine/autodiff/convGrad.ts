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
 * Gradient of a convolution's input: the transposed convolution of dy with the same weight.
 * output_padding restores rows/columns the forward stride skipped at the far edge.
 */
export function convInputGrad(g: GraphBuilder, dy: Tensor, w: Tensor, x: Tensor, c: ConvGeom): Tensor {
  const k = w.shape.slice(2);
  const outputPadding = [0, 1].map(
    (i) => x.shape[2 + i]! - ((dy.shape[2 + i]! - 1) * c.strides[i]! + (k[i]! - 1) * c.dilations[i]! + 1 - c.pads[i]! - c.pads[i + 2]!),
  );
  return g.convTranspose(dy, w, null, { ...c, outputPadding });
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
 * weight (Cout, Cin/group, kH, kW), as one Conv: the input (batch and channel axes swapped) convolved
 * with outGrad as the kernel, the forward stride becoming the dilation and vice versa. The far-edge
 * padding is trimmed to exactly what the forward pass read, so the result needs no Slice.
 * Also serves ConvTranspose (its forward is this convolution's adjoint, with input/outGrad swapped).
 */
export function convWeightGrad(g: GraphBuilder, input: Tensor, outGrad: Tensor, kernel: readonly number[], c: ConvGeom): Tensor {
  const [n, cin, h, wd] = input.shape as [number, number, number, number];
  const [, , oh, ow] = outGrad.shape as [number, number, number, number];
  const G = c.group;
  const spatial = [h, wd];
  const outSpatial = [oh, ow];
  // Padding after the last row/column the forward pass actually touched (may be negative: crop instead).
  const farPad = [0, 1].map(
    (i) => (outSpatial[i]! - 1) * c.strides[i]! + (kernel[i]! - 1) * c.dilations[i]! + 1 - spatial[i]! - c.pads[i]!,
  );
  let x = input;
  if (farPad.some((p) => p < 0)) {
    x = g.slice(x, [0, 0], farPad.map((p, i) => spatial[i]! + Math.min(p, 0)), [2, 3]);
  }
  // [N, Cin, H, W] -> [Cin/G, G*N, H, W]: batch axis becomes channels, grouped per conv group.
  const xs = x.shape.slice(2);
  const xt =
    G === 1
      ? g.transpose(x, [1, 0, 2, 3])
      : g.reshape(g.transpose(g.reshape(x, [n, G, cin / G, ...xs]), [2, 1, 0, 3, 4]), [cin / G, G * n, ...xs]);
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
