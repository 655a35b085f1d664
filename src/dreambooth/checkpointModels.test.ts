import { readFileSync } from 'node:fs';
import { decode as decodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { resolveGenerateRequest } from '../generation/generateRequest';
import { builtinModelSource, loadGenerationModel, type GenerationModel } from '../generation/generationModel';
import { GenerationPipeline } from '../generation/generationPipeline';
import { InferenceBackend } from '../generation/inferenceBackend';
import { parseSafetensors } from '../model/safetensors';
import { checkpointModel } from './checkpointModels';
import { personalizedModel, trainedValuesFromCheckpoint } from './personalizedModel';
import { loraCheckpointFile } from './testing/loraCheckpointFile';

const image = async (model: GenerationModel, pipeline: GenerationPipeline) => {
  const request = resolveGenerateRequest({ prompt: 'a photo of a cat', sampler: 'ddim', steps: 2, guidanceScale: 5, seed: 3, numImages: 1 }, model);
  return decodePng(new Uint8Array((await pipeline.generate(request)).images[0]!.png)).data;
};

describe('a stored checkpoint as a model (wasm, built-in model)', () => {
  it('follows the adapters it holds, not what its settings would make: the image of its weights merged', async () => {
    const base = await loadGenerationModel(builtinModelSource());
    const header = parseSafetensors(readFileSync('models/builtin/unet/diffusion_pytorch_model.safetensors'));
    // Rank-2 adapters on 4 projections, where its Quick look settings say rank 4 on every attention projection.
    const { file } = loraCheckpointFile(header.entries, 2);
    const id = { id: 'checkpoint:test', key: 'checkpoint:test', tokenizer: base.tokenizer };
    const model = await checkpointModel(base, file, id);
    const shared = new GenerationPipeline(model, await InferenceBackend.open({ preference: 'wasm', threads: 2 }), model.trained!.inputs);
    await shared.setTrainedValues(model.trained!.values, model);
    const merged = personalizedModel(base, trainedValuesFromCheckpoint(file), id);
    const reference = await GenerationPipeline.create(merged, { preference: 'wasm', threads: 2 });
    const plain = await GenerationPipeline.create(base, { preference: 'wasm', threads: 2 });
    try {
      const [got, want, untouched] = [await image(model, shared), await image(merged, reference), await image(base, plain)];
      const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
      expect(maxDiff(got, want)).toBeLessThanOrEqual(2);
      // The adapters change the picture: the comparison above is not between two base-model images.
      expect(maxDiff(want, untouched)).toBeGreaterThan(8);
    } finally {
      for (const p of [shared, reference, plain]) await p.dispose();
    }
  }, 120_000);

  it('a checkpoint whose tensors its base model has no layers for is refused, not sampled as the base model', async () => {
    const base = await loadGenerationModel(builtinModelSource());
    const header = parseSafetensors(readFileSync('models/builtin/unet/diffusion_pytorch_model.safetensors'));
    // As a checkpoint of a model that names its layers otherwise would be.
    const { file } = loraCheckpointFile(
      [...header.entries].map(([name, entry]) => [`renamed.${name}`, entry] as const),
      2,
    );
    const model = await checkpointModel(base, file, { id: 'checkpoint:renamed', key: 'checkpoint:renamed', tokenizer: base.tokenizer });
    const pipeline = new GenerationPipeline(model, await InferenceBackend.open({ preference: 'wasm', threads: 2 }), model.trained!.inputs);
    try {
      await pipeline.setTrainedValues(model.trained!.values, model);
      await expect(image(model, pipeline)).rejects.toMatchObject({
        code: 'bad-input',
        field: 'modelId',
        message: expect.stringContaining('checkpoint:renamed holds 8 trained tensors its base model has no layer for (first: unet.renamed.'),
      });
    } finally {
      await pipeline.dispose();
    }
  }, 120_000);
});
