import type { NoiseSchedule } from './noiseSchedule';
import type { NoiseGenerator } from './random';

/**
 * The forward process used by training, as diffusers' `DDPMScheduler.add_noise` and the
 * DreamBooth script: x_t = sqrt(ᾱ_t) x0 + sqrt(1 − ᾱ_t) ε, one timestep per batch item.
 * `x0` and `noise` are `[batch, ...]` flat arrays; `timesteps.length` is the batch size.
 */
export function addNoise(schedule: NoiseSchedule, x0: Float32Array, noise: Float32Array, timesteps: ArrayLike<number>): Float32Array {
  if (x0.length !== noise.length) throw new RangeError(`x0 has ${x0.length} values but noise has ${noise.length}`);
  const batch = timesteps.length;
  if (batch === 0 || x0.length % batch !== 0) {
    throw new RangeError(`${x0.length} values cannot be split into ${batch} batch items`);
  }
  const per = x0.length / batch;
  const out = new Float32Array(x0.length);
  for (let b = 0; b < batch; b++) {
    const t = timesteps[b];
    if (!Number.isInteger(t) || t < 0 || t >= schedule.numTrainTimesteps) {
      throw new RangeError(`timestep ${t} is outside [0, ${schedule.numTrainTimesteps})`);
    }
    const signal = Math.sqrt(schedule.alphasCumprod[t]);
    const noiseScale = Math.sqrt(1 - schedule.alphasCumprod[t]);
    for (let i = b * per; i < (b + 1) * per; i++) out[i] = signal * x0[i] + noiseScale * noise[i];
  }
  return out;
}

/** Training timesteps uniform in [0, N): `torch.randint(0, N, (batch,))` as the DreamBooth script draws them. */
export function sampleTrainingTimesteps(generator: NoiseGenerator, schedule: NoiseSchedule, batch: number): Int32Array {
  return generator.randint(0, schedule.numTrainTimesteps, batch);
}

/**
 * Min-SNR-γ loss weights for epsilon prediction (Hang et al. 2023; diffusers' `--snr_gamma`):
 * min(SNR_t, γ) / SNR_t with SNR_t = ᾱ_t / (1 − ᾱ_t). Low-noise timesteps, whose targets are nearly free to predict
 * and whose gradients conflict with the rest, weigh less; the paper measures ~3× faster convergence at γ = 5.
 */
export function minSnrWeights(schedule: NoiseSchedule, timesteps: ArrayLike<number>, gamma: number): Float32Array {
  if (!(gamma > 0)) throw new RangeError(`snr gamma must be > 0, got ${gamma}`);
  return Float32Array.from({ length: timesteps.length }, (_, b) => {
    const a = schedule.alphasCumprod[timesteps[b]!];
    if (a === undefined) throw new RangeError(`timestep ${timesteps[b]} is outside [0, ${schedule.numTrainTimesteps})`);
    const snr = a / (1 - a);
    return Math.min(snr, gamma) / snr;
  });
}
