import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCLIPTextConfig, parseModelIndex, parseUNetConfig, parseVAEConfig } from './config';

const json = (p: string) => JSON.parse(readFileSync(new URL(`../../fixtures/diffusers-tiny-sd/${p}`, import.meta.url), 'utf8'));
const unet = json('unet/config.json');

/** runwayml/stable-diffusion-v1-5 unet/config.json as diffusers 0.6 wrote it (no keys added since). */
const sd15Unet = {
  _class_name: 'UNet2DConditionModel',
  _diffusers_version: '0.6.0',
  act_fn: 'silu',
  attention_head_dim: 8,
  block_out_channels: [320, 640, 1280, 1280],
  center_input_sample: false,
  cross_attention_dim: 768,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  downsample_padding: 1,
  flip_sin_to_cos: true,
  freq_shift: 0,
  in_channels: 4,
  layers_per_block: 2,
  mid_block_scale_factor: 1,
  norm_eps: 1e-5,
  norm_num_groups: 32,
  out_channels: 4,
  sample_size: 64,
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
};

describe('component configs', () => {
  it('accepts the diffusers/transformers fixture configs, both as saved and in full', () => {
    const all = json('configs.json');
    expect(parseUNetConfig(unet).cross_attention_dim).toBe(32);
    expect(parseUNetConfig(all.unet).block_out_channels).toEqual([32, 64]);
    expect(parseVAEConfig(json('vae/config.json')).scaling_factor).toBe(0.18215);
    expect(parseVAEConfig(all.vae).latent_channels).toBe(4);
    expect(parseCLIPTextConfig(json('text_encoder/config.json')).hidden_act).toBe('quick_gelu');
    expect(parseCLIPTextConfig(all.text_encoder).num_hidden_layers).toBe(5);
  });

  it('loads an SD 1.5 UNet config, filling in diffusers defaults for keys it lacks', () => {
    const c = parseUNetConfig(sd15Unet);
    expect(c.attention_head_dim).toBe(8);
    expect(c.use_linear_projection).toBe(false);
    expect(c.transformer_layers_per_block).toBe(1);
    expect(c.conv_in_kernel).toBe(3);
    expect(c.time_embedding_dim).toBeNull();
  });

  it("fills defaults into a copy, leaving the caller's object alone", () => {
    const input = { ...sd15Unet };
    parseUNetConfig(input);
    expect('use_linear_projection' in input).toBe(false);
  });

  it('names the unsupported key, its value and the supported values', () => {
    expect(() => parseUNetConfig({ ...unet, attention_type: 'gated' })).toThrow(
      'unet/config.json: "attention_type": "gated" is not supported (supported: "default")',
    );
    expect(() => parseUNetConfig({ ...unet, down_block_types: ['DownBlock2D', 'AttnDownBlock2D'] })).toThrow(
      '"down_block_types"[1]: "AttnDownBlock2D" is not supported (supported: "DownBlock2D", "CrossAttnDownBlock2D")',
    );
    expect(() => parseUNetConfig({ ...unet, class_embed_type: 'timestep' })).toThrow('"class_embed_type": "timestep" is not supported (supported: null)');
    expect(() => parseVAEConfig({ ...json('vae/config.json'), act_fn: 'relu' })).toThrow(
      'vae/config.json: "act_fn": "relu" is not supported (supported: "silu")',
    );
    expect(() => parseCLIPTextConfig({ ...json('text_encoder/config.json'), hidden_act: 'relu' })).toThrow(
      'text_encoder/config.json: "hidden_act": "relu" is not supported (supported: "quick_gelu", "gelu")',
    );
  });

  it('lists every problem at once, including wrong types and unknown keys', () => {
    let message = '';
    try {
      parseUNetConfig({ ...unet, layers_per_block: '2', new_feature: 'on', new_feature_off: null });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('"layers_per_block": "2" must be integer');
    expect(message).toContain('"new_feature": "on" is not supported');
    expect(message).not.toContain('new_feature_off');
  });

  it('checks consistency between keys', () => {
    expect(() => parseUNetConfig({ ...unet, block_out_channels: [32, 64, 64] })).toThrow('"down_block_types" has 2 entries but "block_out_channels" has 3');
    expect(() => parseUNetConfig({ ...unet, block_out_channels: [32, 48] })).toThrow(
      '"block_out_channels"[1]: 48 channels are not divisible by "norm_num_groups" 32',
    );
    expect(() => parseUNetConfig({ ...unet, attention_head_dim: [8, 8, 8] })).toThrow('"attention_head_dim": [8,8,8] must have one entry per block (2)');
    expect(() => parseUNetConfig({ ...unet, attention_head_dim: 5 })).toThrow('"attention_head_dim"[0]: 5 heads do not divide 32 channels');
    expect(() => parseCLIPTextConfig({ hidden_size: 30, num_attention_heads: 4 })).toThrow('"num_attention_heads": 4 does not divide "hidden_size" 30');
  });

  it('checks model_index.json component classes', () => {
    const index = {
      _class_name: 'StableDiffusionPipeline',
      scheduler: ['diffusers', 'PNDMScheduler'],
      text_encoder: ['transformers', 'CLIPTextModel'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      unet: ['diffusers', 'UNet2DConditionModel'],
      vae: ['diffusers', 'AutoencoderKL'],
      safety_checker: [null, null],
      requires_safety_checker: false,
    };
    expect(parseModelIndex(index).unet).toEqual(['diffusers', 'UNet2DConditionModel']);
    expect(() => parseModelIndex({ ...index, unet: ['diffusers', 'UNet2DModel'] })).toThrow(
      'model_index.json: "unet"[1]: "UNet2DModel" is not supported (supported: "UNet2DConditionModel")',
    );
    const { vae: _vae, ...noVae } = index;
    expect(() => parseModelIndex(noVae)).toThrow('model_index.json: "vae" is missing');
  });
});
