/**
 * Component configs in diffusers' / transformers' own formats, checked against the subset the graph
 * builders implement. Missing keys take the library's defaults (so an SD 1.x folder written by an older
 * diffusers loads); a key set to anything the builders do not implement is rejected by name.
 */
import { ConfigError, configChecker } from './configErrors';
import { CLIP_TEXT_CONFIG_SCHEMA, MODEL_INDEX_SCHEMA, UNET_CONFIG_SCHEMA, VAE_CONFIG_SCHEMA } from './configSchemas';
import { validateCLIPTextConfig, validateModelIndex, validateUNetConfig, validateVAEConfig } from '../validation/validators.generated.js';

export interface UNetConfig {
  _class_name?: string;
  sample_size: number | null;
  in_channels: number;
  out_channels: number;
  flip_sin_to_cos: boolean;
  freq_shift: number;
  down_block_types: ('DownBlock2D' | 'CrossAttnDownBlock2D')[];
  up_block_types: ('UpBlock2D' | 'CrossAttnUpBlock2D')[];
  block_out_channels: number[];
  layers_per_block: number;
  downsample_padding: number;
  norm_num_groups: number;
  norm_eps: number;
  cross_attention_dim: number;
  transformer_layers_per_block: number | number[];
  /** diffusers' historical naming: this is the number of heads per block, not the head size. */
  attention_head_dim: number | number[];
  use_linear_projection: boolean;
  upcast_attention: boolean;
  time_embedding_dim: number | null;
  conv_in_kernel: number;
  conv_out_kernel: number;
}

export interface VAEConfig {
  _class_name?: string;
  in_channels: number;
  out_channels: number;
  down_block_types: 'DownEncoderBlock2D'[];
  up_block_types: 'UpDecoderBlock2D'[];
  block_out_channels: number[];
  layers_per_block: number;
  latent_channels: number;
  norm_num_groups: number;
  sample_size: number;
  scaling_factor: number;
  shift_factor: number | null;
  use_quant_conv: boolean;
  use_post_quant_conv: boolean;
  mid_block_add_attention: boolean;
}

export interface CLIPTextConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  hidden_act: 'quick_gelu' | 'gelu';
  layer_norm_eps: number;
  pad_token_id: number | null;
  bos_token_id: number | null;
  eos_token_id: number | null;
}

/** The diffusers pipeline index: which class each subfolder holds. */
export interface ModelIndex {
  _class_name: string;
  unet: [string, string];
  vae: [string, string];
  text_encoder: [string, string];
  scheduler: [string, string];
  tokenizer?: [string | null, string | null];
}

const checkUNet = configChecker<UNetConfig>(
  validateUNetConfig,
  UNET_CONFIG_SCHEMA,
  'not a UNet2DConditionModel option this builder knows; unknown keys are accepted only as null',
);
const checkVAE = configChecker<VAEConfig>(
  validateVAEConfig,
  VAE_CONFIG_SCHEMA,
  'not an AutoencoderKL option this builder knows; unknown keys are accepted only as null',
);
const checkCLIPText = configChecker<CLIPTextConfig>(validateCLIPTextConfig, CLIP_TEXT_CONFIG_SCHEMA, '');
const checkModelIndex = configChecker<ModelIndex>(validateModelIndex, MODEL_INDEX_SCHEMA, '');

function requireThat(source: string, problems: string[]): void {
  if (problems.length) throw new ConfigError(source, problems);
}

/** Per-block value of an `int | int[]` key, checking the list length. */
function perBlock(key: string, v: number | number[], blocks: number, problems: string[]): number[] {
  if (typeof v === 'number') return new Array<number>(blocks).fill(v);
  if (v.length !== blocks) problems.push(`"${key}": ${JSON.stringify(v)} must have one entry per block (${blocks})`);
  return v;
}

function groupsDivide(key: string, channels: number[], groups: number, problems: string[]): void {
  channels.forEach((c, i) => {
    if (c % groups !== 0) problems.push(`"${key}"[${i}]: ${c} channels are not divisible by "norm_num_groups" ${groups}`);
  });
}

/** Checks a diffusers `unet/config.json` (UNet2DConditionModel) and fills in defaults. */
export function parseUNetConfig(json: unknown, source = 'unet/config.json'): UNetConfig {
  const c = checkUNet(json, source);
  const n = c.block_out_channels.length;
  const problems: string[] = [];
  if (c.down_block_types.length !== n) problems.push(`"down_block_types" has ${c.down_block_types.length} entries but "block_out_channels" has ${n}`);
  if (c.up_block_types.length !== n) problems.push(`"up_block_types" has ${c.up_block_types.length} entries but "block_out_channels" has ${n}`);
  groupsDivide('block_out_channels', c.block_out_channels, c.norm_num_groups, problems);
  const heads = perBlock('attention_head_dim', c.attention_head_dim, n, problems);
  perBlock('transformer_layers_per_block', c.transformer_layers_per_block, n, problems);
  c.block_out_channels.forEach((ch, i) => {
    if (heads[i] !== undefined && ch % heads[i] !== 0) problems.push(`"attention_head_dim"[${i}]: ${heads[i]} heads do not divide ${ch} channels`);
  });
  requireThat(source, problems);
  return c;
}

/** Checks a diffusers `vae/config.json` (AutoencoderKL) and fills in defaults. */
export function parseVAEConfig(json: unknown, source = 'vae/config.json'): VAEConfig {
  const c = checkVAE(json, source);
  const n = c.block_out_channels.length;
  const problems: string[] = [];
  if (c.down_block_types.length !== n) problems.push(`"down_block_types" has ${c.down_block_types.length} entries but "block_out_channels" has ${n}`);
  if (c.up_block_types.length !== n) problems.push(`"up_block_types" has ${c.up_block_types.length} entries but "block_out_channels" has ${n}`);
  groupsDivide('block_out_channels', c.block_out_channels, c.norm_num_groups, problems);
  requireThat(source, problems);
  return c;
}

/** Checks a transformers `text_encoder/config.json` (CLIPTextConfig for CLIPTextModel) and fills in defaults. */
export function parseCLIPTextConfig(json: unknown, source = 'text_encoder/config.json'): CLIPTextConfig {
  const c = checkCLIPText(json, source);
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw new ConfigError(source, [`"num_attention_heads": ${c.num_attention_heads} does not divide "hidden_size" ${c.hidden_size}`]);
  }
  return c;
}

/** Checks a diffusers `model_index.json` for a StableDiffusionPipeline with the supported component classes. */
export function parseModelIndex(json: unknown, source = 'model_index.json'): ModelIndex {
  return checkModelIndex(json, source);
}
