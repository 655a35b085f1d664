/**
 * JSON Schemas of the component configs (config.ts applies them through configErrors.ts): the subset of diffusers'
 * and transformers' options the graph builders implement, with the libraries' defaults. Compiled at build time with
 * the options in MODEL_CONFIG_OPTIONS (see scripts/schemaRegistry.ts); imports nothing.
 */

/** Ajv options the config schemas are compiled with: defaults are filled in, and `type: [..]` unions are allowed. */
export const MODEL_CONFIG_OPTIONS = { allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true } as const;

const int = (min: number, dflt?: number) => ({ type: 'integer', minimum: min, ...(dflt === undefined ? {} : { default: dflt }) });
const num = (dflt: number) => ({ type: 'number', default: dflt });
const only = (value: unknown) => ({ enum: [value], default: value });
const oneOf = (values: unknown[], dflt: unknown) => ({ enum: values, default: dflt });
const intOrList = (dflt: number) => ({ type: ['integer', 'array'], minimum: 1, items: { type: 'integer', minimum: 1 }, default: dflt });
/** Keys such as `_class_name`, `_diffusers_version`, `_name_or_path` carry no architecture. */
const underscoreKeys = { '^_': {} };

/** diffusers' UNet2DConditionModel config (`UNetConfig` in config.ts). */
export const UNET_CONFIG_SCHEMA = {
  type: 'object',
  properties: {
    _class_name: { const: 'UNet2DConditionModel' },
    sample_size: { type: ['integer', 'null'], minimum: 1, default: null },
    in_channels: int(1, 4),
    out_channels: int(1, 4),
    center_input_sample: only(false),
    flip_sin_to_cos: { type: 'boolean', default: true },
    freq_shift: num(0),
    down_block_types: {
      type: 'array',
      minItems: 1,
      items: { enum: ['DownBlock2D', 'CrossAttnDownBlock2D'] },
      default: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
    },
    mid_block_type: only('UNetMidBlock2DCrossAttn'),
    up_block_types: {
      type: 'array',
      minItems: 1,
      items: { enum: ['UpBlock2D', 'CrossAttnUpBlock2D'] },
      default: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
    },
    only_cross_attention: only(false),
    block_out_channels: { type: 'array', minItems: 1, items: int(1), default: [320, 640, 1280, 1280] },
    layers_per_block: int(1, 2),
    downsample_padding: oneOf([0, 1], 1),
    mid_block_scale_factor: only(1),
    dropout: only(0),
    act_fn: only('silu'),
    norm_num_groups: int(1, 32),
    norm_eps: { type: 'number', exclusiveMinimum: 0, default: 1e-5 },
    cross_attention_dim: int(1, 1280),
    transformer_layers_per_block: intOrList(1),
    reverse_transformer_layers_per_block: only(null),
    encoder_hid_dim: only(null),
    encoder_hid_dim_type: only(null),
    attention_head_dim: intOrList(8),
    num_attention_heads: only(null),
    dual_cross_attention: only(false),
    use_linear_projection: { type: 'boolean', default: false },
    class_embed_type: only(null),
    addition_embed_type: only(null),
    addition_time_embed_dim: only(null),
    num_class_embeds: only(null),
    // Everything runs in float32, so upcasting attention to float32 changes nothing.
    upcast_attention: { type: 'boolean', default: false },
    resnet_time_scale_shift: only('default'),
    resnet_skip_time_act: only(false),
    resnet_out_scale_factor: only(1),
    time_embedding_type: only('positional'),
    time_embedding_dim: { type: ['integer', 'null'], minimum: 1, default: null },
    time_embedding_act_fn: only(null),
    timestep_post_act: only(null),
    time_cond_proj_dim: only(null),
    conv_in_kernel: oneOf([1, 3, 5, 7], 3),
    conv_out_kernel: oneOf([1, 3, 5, 7], 3),
    projection_class_embeddings_input_dim: only(null),
    attention_type: only('default'),
    class_embeddings_concat: only(false),
    mid_block_only_cross_attention: only(null),
    cross_attention_norm: only(null),
    // Only read when addition_embed_type is set, which is not supported.
    addition_embed_type_num_heads: { type: 'integer' },
  },
  patternProperties: underscoreKeys,
  additionalProperties: { type: 'null' },
};

/** diffusers' AutoencoderKL config (`VAEConfig` in config.ts). */
export const VAE_CONFIG_SCHEMA = {
  type: 'object',
  properties: {
    _class_name: { const: 'AutoencoderKL' },
    in_channels: int(1, 3),
    out_channels: int(1, 3),
    down_block_types: { type: 'array', minItems: 1, items: { enum: ['DownEncoderBlock2D'] }, default: ['DownEncoderBlock2D'] },
    up_block_types: { type: 'array', minItems: 1, items: { enum: ['UpDecoderBlock2D'] }, default: ['UpDecoderBlock2D'] },
    block_out_channels: { type: 'array', minItems: 1, items: int(1), default: [64] },
    layers_per_block: int(1, 1),
    act_fn: only('silu'),
    latent_channels: int(1, 4),
    norm_num_groups: int(1, 32),
    sample_size: int(1, 32),
    scaling_factor: { type: 'number', exclusiveMinimum: 0, default: 0.18215 },
    shift_factor: { type: ['number', 'null'], default: null },
    latents_mean: only(null),
    latents_std: only(null),
    // Everything runs in float32 already.
    force_upcast: { type: 'boolean', default: true },
    use_quant_conv: { type: 'boolean', default: true },
    use_post_quant_conv: { type: 'boolean', default: true },
    mid_block_add_attention: { type: 'boolean', default: true },
  },
  patternProperties: underscoreKeys,
  additionalProperties: { type: 'null' },
};

/** transformers' CLIPTextModel config (`CLIPTextConfig` in config.ts). */
export const CLIP_TEXT_CONFIG_SCHEMA = {
  type: 'object',
  properties: {
    model_type: only('clip_text_model'),
    architectures: { type: ['array', 'null'], items: { enum: ['CLIPTextModel'] } },
    vocab_size: int(1, 49408),
    hidden_size: int(1, 512),
    intermediate_size: int(1, 2048),
    num_hidden_layers: int(1, 12),
    num_attention_heads: int(1, 8),
    max_position_embeddings: int(1, 77),
    hidden_act: oneOf(['quick_gelu', 'gelu'], 'quick_gelu'),
    layer_norm_eps: { type: 'number', exclusiveMinimum: 0, default: 1e-5 },
    attention_dropout: only(0),
    dropout: only(0),
    pad_token_id: { type: ['integer', 'null'], default: 1 },
    bos_token_id: { type: ['integer', 'null'], default: 49406 },
    eos_token_id: { type: ['integer', 'null'], default: 49407 },
    // Read by CLIPTextModelWithProjection only.
    projection_dim: { type: 'integer' },
  },
  // transformers writes many generic PretrainedConfig keys (id2label, return_dict, dtype, ...) that do not
  // change CLIPTextModel's outputs, so unknown keys are accepted here.
  additionalProperties: true,
};

/** diffusers' pipeline index (`ModelIndex` in config.ts). */
const pair = (lib: string, cls: string) => ({
  type: 'array',
  items: [{ const: lib }, { const: cls }],
  minItems: 2,
  additionalItems: false,
});
export const MODEL_INDEX_SCHEMA = {
  type: 'object',
  required: ['unet', 'vae', 'text_encoder', 'scheduler'],
  properties: {
    _class_name: { const: 'StableDiffusionPipeline' },
    unet: pair('diffusers', 'UNet2DConditionModel'),
    vae: pair('diffusers', 'AutoencoderKL'),
    text_encoder: pair('transformers', 'CLIPTextModel'),
    scheduler: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'string' } },
  },
  // tokenizer, safety_checker, feature_extractor, requires_safety_checker, image_encoder: not used by the builders.
  additionalProperties: true,
};
