import { describe, expect, it } from 'vitest';
import { ddimTimesteps, dpmSolverTimesteps, eulerTimesteps, roundHalfEven } from './timesteps';

// Expected lists are worked out by hand from the formulas in diffusers' set_timesteps:
//   leading:  (arange(n) * (N // n)).round()[::-1] + steps_offset
//   linspace: linspace(0, N - 1, n).round()[::-1]            (Euler: no round, float32)
//   trailing: round(arange(N, 0, -N / n)) - 1
//   DPM-Solver spaces n + 1 points and drops the last: leading ratio N // (n + 1).
const N = 1000;
const params = (spacing: 'leading' | 'trailing' | 'linspace', n: number, stepsOffset = 0) => ({
  spacing,
  numTrainTimesteps: N,
  numInferenceSteps: n,
  stepsOffset,
});
const arithmetic = (first: number, step: number, count: number) => Array.from({ length: count }, (_, i) => first - i * step);

describe('DDIM timesteps', () => {
  it('"leading" with steps_offset=1 (SD 1.x) starts at 981 for 50 steps and ends at 1', () => {
    expect(ddimTimesteps(params('leading', 50, 1))).toEqual(arithmetic(981, 20, 50));
    expect(ddimTimesteps(params('leading', 25, 1))).toEqual(arithmetic(961, 40, 25));
  });

  it('"linspace" rounds halves to even as numpy does (166.5 → 166, 499.5 → 500, 832.5 → 832)', () => {
    expect(ddimTimesteps(params('linspace', 7))).toEqual([999, 832, 666, 500, 333, 166, 0]);
  });

  it('"trailing" starts at the last training step', () => {
    expect(ddimTimesteps(params('trailing', 10))).toEqual(arithmetic(999, 100, 10));
    expect(ddimTimesteps(params('trailing', 3))).toEqual([999, 666, 332]);
  });

  it('rejects step counts outside [1, N]', () => {
    expect(() => ddimTimesteps(params('leading', 0))).toThrow(/inference steps/);
    expect(() => ddimTimesteps(params('leading', 1001))).toThrow(/inference steps/);
    expect(() => ddimTimesteps(params('leading', 2.5))).toThrow(/inference steps/);
  });
});

describe('Euler timesteps', () => {
  it('"linspace" keeps fractional timesteps (float32)', () => {
    expect(eulerTimesteps(params('linspace', 4))).toEqual([999, 666, 333, 0]);
    expect(eulerTimesteps(params('linspace', 3))).toEqual([999, 499.5, 0]);
    expect(eulerTimesteps(params('linspace', 20))[1]).toBe(Math.fround(999 - 999 / 19));
  });

  it('"leading" matches DDIM\'s', () => {
    expect(eulerTimesteps(params('leading', 50, 1))).toEqual(arithmetic(981, 20, 50));
  });
});

describe('DPM-Solver timesteps', () => {
  it('"leading" uses N // (n + 1): 25 steps with offset 1 run 951 … 39', () => {
    expect(dpmSolverTimesteps(params('leading', 25, 1))).toEqual(arithmetic(951, 38, 25));
    expect(dpmSolverTimesteps(params('leading', 20, 1))).toEqual(arithmetic(941, 47, 20));
  });

  it('"linspace" and "trailing"', () => {
    expect(dpmSolverTimesteps(params('linspace', 4))).toEqual([999, 749, 500, 250]);
    expect(dpmSolverTimesteps(params('trailing', 4))).toEqual([999, 749, 499, 249]);
  });
});

describe('roundHalfEven', () => {
  it('rounds halves to the even neighbour and the rest to nearest', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, 2, 3]);
  });
});
