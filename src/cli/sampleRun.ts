/**
 * `npm run sample`: text → images with the studio's GenerationService and pipeline in Node, from the built-in model
 * or a diffusers-layout model folder. Each PNG carries the studio's generation parameters (the pipeline embeds them,
 * as in the Generate step); a grid of all of them is written beside. Node only.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bindIdentifier } from '../dreambooth/identifierBinding';
import { personalizedModel } from '../dreambooth/personalizedModel';
import type { SamplerName } from '../diffusion/schedulerConfig';
import { gridPng, pngToRgb } from '../export/imageGrid';
import { BUILTIN_MODEL_ID } from '../generation/generationModel';
import type { ModelResolver } from '../generation/generationService';
import { baseModelHash } from '../interop/baseModelHash';
import { InteropError } from '../interop/interopError';
import { importLora } from '../interop/loraFile';
import { JobError } from '../protocol/jobs';
import { sha256Hex } from '../storage/contentHash';
import { CliError } from './cliError';
import { folderModelId, folderModels } from './folderModels';
import { generationService, requestBackend, type CliBackend } from './generationService';
import { writeFileAtomic } from './atomicFile';
import { progressBar } from './progressBar';

export interface SampleOptions {
  /** A diffusers model folder; undefined: the built-in model. */
  model?: string;
  /** A LoRA file (peft or kohya naming) to apply to the model, and the identifier's embedding file if it has one. */
  lora?: string;
  embedding?: string;
  prompt: string;
  negativePrompt: string;
  n: number;
  steps: number;
  seed: number;
  sampler: SamplerName;
  guidance: number;
  out: string;
  backend: CliBackend;
  threads: number;
  quiet: boolean;
}

/** The request fields whose flag is named otherwise. */
const FLAG_OF_FIELD: Record<string, string> = { guidanceScale: 'guidance', numImages: 'n', negativePrompt: 'negative-prompt', modelId: 'model' };

const LORA_MODEL_ID = 'lora';

/**
 * Folder models, and the model id 'lora': `baseId` with the LoRA file applied (src/interop importLora, which refuses a
 * file made for another base model) and the identifier it names bound as in training.
 */
function withLora(baseId: string, lora: Uint8Array<ArrayBuffer>, embedding: Uint8Array | undefined): ModelResolver {
  return (modelId, base) => {
    if (modelId !== LORA_MODEL_ID) return folderModels(modelId, base);
    return (async () => {
      const baseModel = await base(baseId);
      const imported = importLora(lora, baseModel.folder, await baseModelHash(baseModel.folder), embedding ? { embedding } : {});
      const tokenizer = imported.identifier ? bindIdentifier(baseModel, imported.identifier).tokenizer : baseModel.tokenizer;
      return personalizedModel(baseModel, imported.values, { id: modelId, key: `lora:${await sha256Hex(lora)}@${baseModel.key}`, tokenizer });
    })();
  };
}

export async function runSample(o: SampleOptions): Promise<{ images: string[]; grid: string; msPerImage: number }> {
  const baseId = o.model ? folderModelId(o.model) : BUILTIN_MODEL_ID;
  const read = (flag: string, path: string) => {
    try {
      return new Uint8Array(readFileSync(path));
    } catch (error) {
      throw new CliError(`--${flag} ${path} cannot be read: ${(error as Error).message}`, 2);
    }
  };
  const resolver = o.lora ? withLora(baseId, read('lora', o.lora), o.embedding ? read('embedding', o.embedding) : undefined) : folderModels;
  const generation = await generationService(o.backend, o.threads, resolver);
  const modelId = o.lora ? LORA_MODEL_ID : baseId;
  const bar = progressBar('{stage} {value}/{total} {bar} | ETA {eta_formatted}');
  let started = false;
  try {
    const t0 = performance.now();
    const result = await generation
      .generate(
        {
          modelId,
          prompt: o.prompt,
          negativePrompt: o.negativePrompt,
          sampler: o.sampler,
          steps: o.steps,
          guidanceScale: o.guidance,
          seed: o.seed,
          numImages: o.n,
          previewEvery: 0,
          backend: requestBackend(o.backend),
        },
        {
          signal: new AbortController().signal,
          transfer: () => undefined,
          progress: (p) => {
            if (o.quiet || p.stage !== 'denoising') return;
            if (!started) bar.start(p.totalSteps, 0, { stage: 'denoising' });
            started = true;
            bar.update(p.step);
          },
        },
      )
      .catch((error: unknown) => {
        if (error instanceof InteropError) throw new CliError(`--lora ${o.lora}: ${error.message}`, 2);
        if (error instanceof JobError && error.code === 'bad-input') {
          const flag = error.field && (FLAG_OF_FIELD[error.field] ?? error.field);
          throw new CliError(`${flag ? `--${flag}: ` : ''}${error.message}`, 2);
        }
        throw error;
      });
    const msPerImage = (performance.now() - t0) / o.n;
    const images = result.images.map((image) => {
      const path = resolve(o.out, `${String(image.seed)}.png`);
      writeFileAtomic(path, new Uint8Array(image.png));
      return path;
    });
    const grid = resolve(o.out, 'grid.png');
    writeFileAtomic(
      grid,
      gridPng(
        result.images.map((i) => pngToRgb(i.png)),
        result.width,
        Math.min(o.n, 4),
      ),
    );
    return { images, grid, msPerImage: Math.round(msPerImage) };
  } finally {
    if (started) bar.stop();
    await generation.unloadModels();
  }
}
