/**
 * Training images → the latents the UNet trains on: the VAE encoder's posterior mean × scaling_factor (the
 * deterministic choice kohya's cached latents also make; the posterior's spread is tiny next to the noise added).
 */
import type { InferenceSession } from 'onnxruntime-web';
import type { InferenceBackend } from '../generation/inferenceBackend';
import type { ModelFolder } from '../model/folder';
import { buildVAEEncoderGraph } from '../model/graphs';

export class LatentEncoder {
  private constructor(
    private readonly backend: InferenceBackend,
    private readonly session: InferenceSession,
    readonly size: number,
    private readonly scale: number,
  ) {}

  /** `size`: the image side the model takes (the VAE's sample_size for the built-in model). */
  static async create(backend: InferenceBackend, folder: ModelFolder, size: number): Promise<LatentEncoder> {
    const { config, weights } = folder.vae;
    const graph = buildVAEEncoderGraph(config, weights, { batch: 1, height: size, width: size }).graph;
    return new LatentEncoder(backend, await backend.createSession(graph), size, config.scaling_factor);
  }

  /** One image [3, size, size] in [−1, 1] → its latent [C·h·w]. */
  async encode(image: Float32Array): Promise<Float32Array> {
    const { ort } = this.backend;
    const out = await this.session.run({ sample: new ort.Tensor('float32', image, [1, 3, this.size, this.size]) });
    const mean = (await out.latent_mean!.getData()) as Float32Array;
    this.backend.throwGpuErrors('the VAE encoder');
    for (const t of Object.values(out)) t.dispose();
    return Float32Array.from(mean, (v) => v * this.scale);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
