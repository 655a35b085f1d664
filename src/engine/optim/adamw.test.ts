import { describe, expect, test } from 'vitest';
import { GraphBuilder } from '../graph';
import { makeRng } from '../graph/testing';
import { ProgramRuntime } from '../runtime/programRuntime';
import { unpackParams } from './flatParams';
import { STATE, compileTrainStep } from './trainStep';

/**
 * AdamW as torch.optim.AdamW documents it, in float64, one element at a time — written
 * independently of the graph version (no flat vectors, no folded coefficients).
 */
class ReferenceAdamW {
  private m: number[];
  private v: number[];
  constructor(
    private readonly p: number[],
    private readonly cfg: { beta1: number; beta2: number; eps: number; weightDecay: number },
  ) {
    this.m = p.map(() => 0);
    this.v = p.map(() => 0);
  }
  get params(): number[] {
    return this.p;
  }
  /** Clips like torch.nn.utils.clip_grad_norm_ (without its 1e-6), then steps. Returns the pre-clip norm. */
  step(grad: number[], lr: number, t: number, maxNorm: number): number {
    const norm = Math.sqrt(grad.reduce((a, g) => a + g * g, 0));
    const coef = Math.min(1, maxNorm / norm);
    const { beta1, beta2, eps, weightDecay } = this.cfg;
    for (let i = 0; i < this.p.length; i++) {
      const g = grad[i]! * coef;
      this.p[i]! -= lr * weightDecay * this.p[i]!;
      this.m[i] = beta1 * this.m[i]! + (1 - beta1) * g;
      this.v[i] = beta2 * this.v[i]! + (1 - beta2) * g * g;
      const mHat = this.m[i]! / (1 - beta1 ** t);
      const vHat = this.v[i]! / (1 - beta2 ** t);
      this.p[i]! -= (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
    return norm;
  }
}

/**
 * loss = Σ c⊙w + (k/2)·Σ b²: the gradient is known in closed form (dw = c, db = k·b), so the
 * reference needs no autodiff of its own.
 */
function quadraticProblem(seed: number) {
  const rng = makeRng(seed);
  const g = new GraphBuilder('quadratic');
  const w0 = rng.randn(12);
  const b0 = rng.randn(5);
  const c = rng.randn(12);
  const k = 3;
  const w = g.param('w', [3, 4], w0);
  const b = g.param('b', [5], b0);
  const lin = g.reduceSum(g.mul(w, g.constant(c, [3, 4])), [0, 1], false);
  const quad = g.mul(g.reduceSum(g.mul(b, b), [0], false), k / 2);
  const loss = g.add(lin, quad);
  const grad = (p: number[]) => [...Array.from(c), ...p.slice(12).map((x) => k * x)];
  const lossOf = (p: number[]) => p.slice(0, 12).reduce((a, x, i) => a + c[i]! * x, 0) + (k / 2) * p.slice(12).reduce((a, x) => a + x * x, 0);
  return { g, loss, init: [...Array.from(w0), ...Array.from(b0)], grad, lossOf };
}

const cfg = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.05 };

describe('AdamW in the graph', () => {
  test('matches a float64 reference AdamW over several steps, with a learning-rate schedule and clipping on and off', async () => {
    const prob = quadraticProblem(3);
    const compiled = compileTrainStep(prob.g, prob.loss, { adamw: cfg });
    const rt = await ProgramRuntime.create({ ep: 'wasm', programs: [compiled.step], state: compiled.initialState });
    const ref = new ReferenceAdamW([...prob.init], cfg);
    // Gradient norm is ~5: max norms 2 and 0.5 clip, 100 does not.
    const schedule = [
      { lr: 0.1, maxNorm: 100 },
      { lr: 0.05, maxNorm: 2 },
      { lr: 0.02, maxNorm: 100 },
      { lr: 0.01, maxNorm: 0.5 },
      { lr: 0.2, maxNorm: 100 },
      { lr: 0.001, maxNorm: 100 },
    ];
    for (const [i, s] of schedule.entries()) {
      const t = i + 1;
      const lossBefore = prob.lossOf(ref.params);
      const norm = ref.step(prob.grad(ref.params), s.lr, t, s.maxNorm);
      const { metrics } = await rt.run('step', { lr: s.lr, step: t, max_grad_norm: s.maxNorm });
      expect(metrics![0]).toBeCloseTo(lossBefore, 4);
      expect(metrics![1]).toBeCloseTo(norm, 4);
      const state = await rt.exportState();
      const got = unpackParams(compiled.layout, state[STATE.params]!);
      const flat = [...got.get('w')!, ...got.get('b')!];
      flat.forEach((x, j) => expect(Math.abs(x - ref.params[j]!)).toBeLessThan(1e-5));
    }
    await rt.dispose();
  });

  test('clipping changes the update exactly as the reference says (and is active in this setup)', async () => {
    const prob = quadraticProblem(4);
    const compiled = compileTrainStep(prob.g, prob.loss, { adamw: { ...cfg, weightDecay: 0 } });
    const run = async (maxNorm: number) => {
      const rt = await ProgramRuntime.create({ ep: 'wasm', programs: [compiled.step], state: compiled.initialState });
      for (let t = 1; t <= 3; t++) await rt.run('step', { lr: 0.1, step: t, max_grad_norm: maxNorm });
      const p = (await rt.exportState())[STATE.params]!;
      await rt.dispose();
      return p;
    };
    const refRun = (maxNorm: number) => {
      const ref = new ReferenceAdamW([...prob.init], { ...cfg, weightDecay: 0 });
      for (let t = 1; t <= 3; t++) ref.step(prob.grad(ref.params), 0.1, t, maxNorm);
      return ref.params;
    };
    const [clipped, free] = [await run(0.3), await run(1e9)];
    const [refClipped, refFree] = [refRun(0.3), refRun(1e9)];
    clipped.forEach((x, j) => expect(Math.abs(x - refClipped[j]!)).toBeLessThan(1e-5));
    free.forEach((x, j) => expect(Math.abs(x - refFree[j]!)).toBeLessThan(1e-5));
    // Adam is scale-invariant only within one step; across steps clipping shows.
    expect(Math.max(...refClipped.map((x, j) => Math.abs(x - refFree[j]!)))).toBeGreaterThan(1e-3);
  });
});
