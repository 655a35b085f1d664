import { blockedSum, formatShape, type GraphBuilder, type Tensor } from '../graph';

/** AdamW constants baked into the graph (PyTorch defaults). What changes per step is a graph input. */
export interface AdamWConfig {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay: p ← p·(1 − lr·weightDecay) before the Adam step. */
  weightDecay?: number;
}

export interface AdamWInputs {
  /** Flat trainable parameters [P]. */
  param: Tensor;
  /** Flat gradient [P] (or a sum of micro-batch gradients, see gradScale). */
  grad: Tensor;
  /** First and second moments [P]. */
  m: Tensor;
  v: Tensor;
  /** Scalar learning rate for this step. */
  lr: Tensor;
  /** Scalar step number t ≥ 1 (float32) for bias correction. */
  step: Tensor;
  /** Scalar: clip the (scaled) gradient to this global L2 norm. Omit to compile without clipping. */
  maxGradNorm?: Tensor;
  /** Scalar multiplying the gradient first (1/k when `grad` sums k micro-batches). */
  gradScale?: Tensor;
}

export interface AdamWOutputs {
  param: Tensor;
  m: Tensor;
  v: Tensor;
  /** Global L2 norm of the scaled gradient before clipping (scalar). */
  gradNorm: Tensor;
}

/**
 * Appends one AdamW update (PyTorch `torch.optim.AdamW` semantics, bias-corrected, decoupled weight
 * decay, optional global-norm clipping as in `clip_grad_norm_`) on flat vectors.
 *
 * Every per-element operation works on the whole flat vector (14 nodes whatever the parameter
 * count), and gradient scaling and clipping fold into the scalar coefficients of the moment updates:
 * m' = β1·m + (1−β1)·c·g, v' = β2·v + (1−β2)·c²·g², with c = gradScale · min(1, maxNorm/‖gradScale·g‖).
 */
export function appendAdamW(g: GraphBuilder, x: AdamWInputs, cfg: AdamWConfig = {}): AdamWOutputs {
  const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = cfg;
  const n = x.param.size;
  for (const [what, t] of [
    ['grad', x.grad],
    ['m', x.m],
    ['v', x.v],
  ] as const) {
    if (t.rank !== 1 || t.size !== n || x.param.rank !== 1) {
      throw new Error(`appendAdamW: ${what} ${formatShape(t.shape)} and param ${formatShape(x.param.shape)} must be the same flat [P]`);
    }
  }
  for (const [what, t] of [
    ['lr', x.lr],
    ['step', x.step],
    ['maxGradNorm', x.maxGradNorm],
    ['gradScale', x.gradScale],
  ] as const) {
    if (t && t.rank !== 0) throw new Error(`appendAdamW: ${what} must be a scalar, got ${formatShape(t.shape)}`);
  }

  // Scoped so a profile can tell the optimizer's nodes from the forward pass's (bench/train.ts).
  return g.scope('adamw', () => update(g, x, { beta1, beta2, eps, weightDecay }));
}

function update(g: GraphBuilder, x: AdamWInputs, { beta1, beta2, eps, weightDecay }: Required<AdamWConfig>): AdamWOutputs {
  const g2 = g.mul(x.grad, x.grad);
  const rawNorm = g.sqrt(blockedSum(g, g2, 0));
  const gradNorm = x.gradScale ? g.mul(rawNorm, x.gradScale) : rawNorm;
  // c: the factor applied to `grad` (averaging, then clipping). Where, not Min: WebGPU lacks Min/Max.
  let c: Tensor | null = x.gradScale ?? null;
  if (x.maxGradNorm) {
    const clip = g.where(g.less(gradNorm, x.maxGradNorm), g.scalar(1), g.div(x.maxGradNorm, gradNorm));
    c = c ? g.mul(c, clip) : clip;
  }
  const c1 = c ? g.mul(c, 1 - beta1) : g.scalar(1 - beta1);
  const c2 = c ? g.mul(g.mul(c, c), 1 - beta2) : g.scalar(1 - beta2);
  const m = g.add(g.mul(x.m, beta1), g.mul(x.grad, c1));
  const v = g.add(g.mul(x.v, beta2), g.mul(g2, c2));

  // Bias corrections 1 − β^t computed in the graph, so the step number is just an input.
  const bc1 = g.sub(1, powConst(g, beta1, x.step));
  const bc2 = g.sub(1, powConst(g, beta2, x.step));
  const denom = g.add(g.sqrt(g.div(v, bc2)), eps);
  const step = g.mul(g.div(m, denom), g.div(x.lr, bc1));
  const decayed = weightDecay === 0 ? x.param : g.mul(x.param, g.sub(1, g.mul(x.lr, weightDecay)));
  return { param: g.sub(decayed, step), m, v, gradNorm };
}

/** base^t for a constant base and a scalar tensor exponent (the builder's pow takes constant exponents). */
function powConst(g: GraphBuilder, base: number, t: Tensor): Tensor {
  return g.node('Pow', [g.scalar(base), t], [{ dtype: 'float32', shape: t.shape }])[0]!;
}
