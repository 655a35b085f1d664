/**
 * Finite-difference checking of the differentiator (test utility). For a forward output `out`,
 * loss = Σ out·R with a fixed random R; analytic gradients come from `gradients()`, numeric ones
 * from central differences of the same loss, with the loss summed in float64 in JS from the
 * float32 outputs of onnxruntime-web's wasm EP. Probes: random ±1 directions over the whole
 * tensor (sensitive to any wrong entry) and single coordinates.
 */
import { GraphBuilder, type Tensor, type TensorData } from '../graph';
import { createWasmSession, feedsFor } from '../graph/runWasm';
import { makeRng } from '../graph/testing';
import { gradients } from './gradients';

type Rng = ReturnType<typeof makeRng>;

export interface FdCase {
  /** Builds the forward graph; `wrt` defaults to every trainable parameter (their values get perturbed). */
  build: (g: GraphBuilder, rng: Rng) => { out: Tensor; wrt?: Tensor[] };
  /** Perturbation size (inputs are ~unit scale). */
  eps?: number;
  /** Relative tolerance of a probe, against max(|analytic|, 0.1·scale of the whole gradient). */
  rtol?: number;
  directions?: number;
  coords?: number;
}

export interface FdProbe {
  tensor: string;
  probe: string;
  analytic: number;
  numeric: number;
  tol: number;
}

export interface FdResult {
  failures: FdProbe[];
  probes: number;
  /** Nodes the backward pass appended. */
  backwardNodes: number;
}

export function paramOf(g: GraphBuilder, rng: Rng, name: string, shape: number[], scale = 1, offset = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return g.param(
    name,
    shape,
    rng.randn(n, scale).map((v) => v + offset),
  );
}

export async function fdCheck(c: FdCase, seed = 1): Promise<FdResult> {
  const eps = c.eps ?? 1e-2;
  const rtol = c.rtol ?? 2e-2;
  // Two identical builds: a forward-only graph for the probes, and forward + backward.
  const fwd = new GraphBuilder('fd_forward');
  const { out: fOut, wrt: fWrt } = c.build(fwd, makeRng(seed));
  fwd.output(fOut);
  const g = new GraphBuilder('fd_backward');
  const { out, wrt: wrt0 } = c.build(g, makeRng(seed));
  const wrt = wrt0 ?? g.parameters('trainable').map((p) => p.tensor);
  const fwrt = fWrt ?? fwd.parameters('trainable').map((p) => p.tensor);
  const r = makeRng(seed + 1000).randn(out.size);
  const loss = g.reduceSum(
    g.mul(out, g.constant(r, out.shape)),
    out.shape.map((_, i) => i),
    false,
  );
  const before = g.nodes.length;
  const grads = gradients(g, loss, wrt);
  const backwardNodes = g.nodes.length - before;
  wrt.forEach((t, i) => g.output(grads.get(t)!, `grad_${i}`));

  const base: Record<string, TensorData> = {};
  for (const t of wrt) base[t.name] = g.initializerOf(t)!.data as Float32Array;
  const isWrt = (names: Set<string>) => (p: { tensor: Tensor }) => names.has(p.tensor.name);
  const gradSession = await createWasmSession(g, { paramsAsInputs: isWrt(new Set(wrt.map((t) => t.name))) });
  const fwdSession = await createWasmSession(fwd, { paramsAsInputs: isWrt(new Set(fwrt.map((t) => t.name))) });
  try {
    const res = await gradSession.run(feedsFor(g, base));
    const lossAt = async (name: string, values: Float32Array) => {
      const o = await fwdSession.run(feedsFor(fwd, { ...base, [name]: values }));
      const y = o[fOut.name]!.data as Float32Array;
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i]! * r[i]!;
      return s;
    };
    const failures: FdProbe[] = [];
    let probes = 0;
    const rng = makeRng(seed + 2000);
    for (const [k, t] of wrt.entries()) {
      const an = res[`grad_${k}`]!.data as Float32Array;
      const x0 = base[t.name] as Float32Array;
      const scale = Math.sqrt(an.reduce((a, v) => a + v * v, 0));
      if (!(scale > 1e-6)) failures.push({ tensor: t.name, probe: 'gradient is identically zero', analytic: 0, numeric: NaN, tol: 0 });
      const probe = async (label: string, v: Float32Array) => {
        const plus = await lossAt(
          t.name,
          x0.map((x, i) => x + eps * v[i]!),
        );
        const minus = await lossAt(
          t.name,
          x0.map((x, i) => x - eps * v[i]!),
        );
        const numeric = (plus - minus) / (2 * eps);
        const analytic = an.reduce((a, gi, i) => a + gi * v[i]!, 0);
        const tol = rtol * Math.max(Math.abs(analytic), 0.1 * (label.startsWith('dir') ? scale : maxAbs(an)));
        probes++;
        if (!(Math.abs(numeric - analytic) <= tol)) failures.push({ tensor: t.name, probe: label, analytic, numeric, tol });
      };
      for (let d = 0; d < (c.directions ?? 2); d++) {
        await probe(
          `dir${d}`,
          Float32Array.from(x0, () => (rng.uniform() < 0.5 ? -1 : 1)),
        );
      }
      for (let d = 0; d < (c.coords ?? 3); d++) {
        const v = new Float32Array(x0.length);
        v[rng.int(x0.length)] = 1;
        await probe(`coord ${v.indexOf(1)}`, v);
      }
    }
    return { failures, probes, backwardNodes };
  } finally {
    await gradSession.release();
    await fwdSession.release();
  }
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}
