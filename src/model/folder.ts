/**
 * Loads a diffusers Stable Diffusion folder (model_index.json, unet/, vae/, text_encoder/):
 * checked configs plus, per component, either its safetensors weights or — when the folder has
 * none — a seeded random initialisation, labelled untrained.
 */
import { parseJson } from './configErrors';
import {
  parseCLIPTextConfig,
  parseModelIndex,
  parseUNetConfig,
  parseVAEConfig,
  type CLIPTextConfig,
  type ModelIndex,
  type UNetConfig,
  type VAEConfig,
} from './config';
import type { WeightSource } from './params';
import { readSafetensors } from './safetensors';

/** Reads one file of the folder by relative path (`unet/config.json`); null when it does not exist. */
export type FolderReader = (path: string) => Promise<Uint8Array | null>;

export interface Component<C> {
  config: C;
  weights: WeightSource;
  /** True when `weights` is the seeded initialisation. */
  untrained: boolean;
}

export interface ModelFolder {
  /** Absent in folders that hold bare components (e.g. diffusers' test fixtures). */
  index: ModelIndex | null;
  unet: Component<UNetConfig>;
  vae: Component<VAEConfig>;
  textEncoder: Component<CLIPTextConfig>;
  /** True when any component is untrained. */
  untrained: boolean;
}

/** Where each component's weights live in a diffusers folder (what from_pretrained reads). */
export const WEIGHT_FILES = {
  unet: 'unet/diffusion_pytorch_model.safetensors',
  vae: 'vae/diffusion_pytorch_model.safetensors',
  text_encoder: 'text_encoder/model.safetensors',
} as const;
const PICKLE_FILES = {
  unet: 'unet/diffusion_pytorch_model.bin',
  vae: 'vae/diffusion_pytorch_model.bin',
  text_encoder: 'text_encoder/pytorch_model.bin',
} as const;

export interface LoadOptions {
  /** Seed of the random initialisation for components without weights; default 0. */
  seed?: number;
}

/** Loads and checks a model folder; errors name the file and the problem. */
export async function loadModelFolder(read: FolderReader, opts: LoadOptions = {}): Promise<ModelFolder> {
  const json = async (path: string, required: boolean): Promise<unknown> => {
    const bytes = await read(path);
    if (bytes === null) {
      if (required) throw new Error(`${path} is missing`);
      return null;
    }
    return parseJson(new TextDecoder().decode(bytes), path);
  };
  const indexJson = await json('model_index.json', false);
  const index = indexJson === null ? null : parseModelIndex(indexJson);

  const weights = async (part: keyof typeof WEIGHT_FILES): Promise<WeightSource> => {
    const bytes = await read(WEIGHT_FILES[part]);
    if (bytes !== null) {
      try {
        // position_ids is an int64 buffer some transformers versions save next to the weights.
        return { kind: 'weights', tensors: readSafetensors(bytes, (name) => name.endsWith('embeddings.position_ids')) };
      } catch (e) {
        throw new Error(`${WEIGHT_FILES[part]}: ${(e as Error).message}`);
      }
    }
    if ((await read(PICKLE_FILES[part])) !== null) {
      throw new Error(`${PICKLE_FILES[part]}: PyTorch pickle weights are not supported; convert them to ${WEIGHT_FILES[part]}`);
    }
    return { kind: 'seeded', seed: opts.seed ?? 0 };
  };
  const component = async <C>(config: C, part: keyof typeof WEIGHT_FILES): Promise<Component<C>> => {
    const w = await weights(part);
    return { config, weights: w, untrained: w.kind === 'seeded' };
  };

  const unet = await component(parseUNetConfig(await json('unet/config.json', true)), 'unet');
  const vae = await component(parseVAEConfig(await json('vae/config.json', true)), 'vae');
  const textEncoder = await component(parseCLIPTextConfig(await json('text_encoder/config.json', true)), 'text_encoder');
  return { index, unet, vae, textEncoder, untrained: unet.untrained || vae.untrained || textEncoder.untrained };
}
