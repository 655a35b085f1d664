import { describe, expect, it } from 'vitest';
import { buildGuidedInputs, combineGuidedOutput, usesGuidance } from './guidance';

describe('classifier-free guidance', () => {
  // Batch of 2 items, 3 values each: uncond half first, then cond half.
  const uncond = [1, 2, 3, -1, 0, 4];
  const cond = [2, 2, 1, 1, 0, 5];
  const batched = Float32Array.from([...uncond, ...cond]);

  it('combines uncond + s · (cond − uncond), item by item', () => {
    const s = 7.5;
    const expected = uncond.map((u, i) => u + s * (cond[i] - u));
    expect(Array.from(combineGuidedOutput(batched, s))).toEqual(expected);
  });

  it('scale 1 gives the conditional output, scale 0 the unconditional one', () => {
    expect(Array.from(combineGuidedOutput(batched, 1))).toEqual(cond);
    expect(Array.from(combineGuidedOutput(batched, 0))).toEqual(uncond);
  });

  it('builds the doubled batch: latents twice, uncond embeddings before cond, one timestep per item', () => {
    const latents = Float32Array.from([0.1, 0.2, 0.3, 0.4]); // B = 2, 2 values each
    const uncondEmb = Float32Array.from([9, 9, 8, 8]);
    const condEmb = Float32Array.from([1, 1, 2, 2]);
    const inputs = buildGuidedInputs(latents, uncondEmb, condEmb, 981, 2);
    expect(Array.from(inputs.sample)).toEqual(Array.from(Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.3, 0.4])));
    expect(Array.from(inputs.encoderHiddenStates)).toEqual([9, 9, 8, 8, 1, 1, 2, 2]);
    expect(Array.from(inputs.timesteps)).toEqual([981, 981, 981, 981]);
  });

  it('guides only above scale 1, as diffusers does', () => {
    expect(usesGuidance(7)).toBe(true);
    expect(usesGuidance(1)).toBe(false);
  });

  it('rejects mismatched shapes', () => {
    expect(() => combineGuidedOutput(new Float32Array(3), 2)).toThrow(/even/);
    expect(() => buildGuidedInputs(new Float32Array(4), new Float32Array(2), new Float32Array(4), 1, 2)).toThrow(/embeddings/);
    expect(() => buildGuidedInputs(new Float32Array(5), new Float32Array(4), new Float32Array(4), 1, 2)).toThrow(/split/);
  });
});
