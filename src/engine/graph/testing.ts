/** Deterministic random numbers for tests (mulberry32 + Box-Muller), so failures reproduce. */
export function makeRng(seed: number) {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return {
    uniform,
    normal,
    /** Float32Array of `n` standard normals times `scale`. */
    randn: (n: number, scale = 1) => Float32Array.from({ length: n }, () => normal() * scale),
    /** Float32Array of `n` uniforms in [lo, hi). */
    rand: (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * uniform()),
    int: (n: number) => Math.floor(uniform() * n),
  };
}
