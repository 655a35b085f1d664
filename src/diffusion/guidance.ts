/**
 * Classifier-free guidance (Ho & Salimans 2022), with diffusers' batching convention: the model
 * runs once on a doubled batch whose first half is unconditional (empty or negative prompt) and
 * whose second half is conditional — `torch.cat([negative_prompt_embeds, prompt_embeds])`, then
 * `noise_pred.chunk(2)` gives (uncond, cond). All tensors are flat `[batch, ...]` arrays.
 */

/** diffusers guides only when the scale is above 1; at 1 the conditional output alone is the answer. */
export function usesGuidance(guidanceScale: number): boolean {
  return guidanceScale > 1;
}

/** Inputs for one guided model call over a batch of `batchSize` items. */
export interface GuidedModelInputs {
  /** `[2B, C, H, W]`: the latents twice (uncond half, cond half). */
  sample: Float32Array;
  /** `[2B, T, D]`: unconditional embeddings, then conditional ones. */
  encoderHiddenStates: Float32Array;
  /** `[2B]`: the same timestep for every item. */
  timesteps: Float32Array;
}

/** Builds the doubled batch: `latents` `[B, ...]`, `uncond`/`cond` embeddings `[B, T, D]` each. */
export function buildGuidedInputs(
  latents: Float32Array,
  uncondEmbeddings: Float32Array,
  condEmbeddings: Float32Array,
  timestep: number,
  batchSize: number,
): GuidedModelInputs {
  if (uncondEmbeddings.length !== condEmbeddings.length) {
    throw new RangeError(`unconditional embeddings have ${uncondEmbeddings.length} values, conditional ${condEmbeddings.length}`);
  }
  if (latents.length % batchSize !== 0 || condEmbeddings.length % batchSize !== 0) {
    throw new RangeError(`latents (${latents.length}) and embeddings (${condEmbeddings.length}) must split into ${batchSize} items`);
  }
  return {
    sample: concat(latents, latents),
    encoderHiddenStates: concat(uncondEmbeddings, condEmbeddings),
    timesteps: new Float32Array(2 * batchSize).fill(timestep),
  };
}

/** Combines a doubled-batch output `[2B, ...]` into `[B, ...]`: uncond + s · (cond − uncond). */
export function combineGuidedOutput(batchedOutput: Float32Array, guidanceScale: number): Float32Array {
  if (batchedOutput.length % 2 !== 0) throw new RangeError(`a guided batch has an even size, got ${batchedOutput.length} values`);
  const half = batchedOutput.length / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const uncond = batchedOutput[i];
    out[i] = uncond + guidanceScale * (batchedOutput[half + i] - uncond);
  }
  return out;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
