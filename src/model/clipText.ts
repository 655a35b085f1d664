/**
 * transformers CLIPTextModel forward pass, with transformers 4.x parameter names (`text_model.…`),
 * the names every Stable Diffusion 1.x `text_encoder/model.safetensors` uses.
 */
import type { Tensor } from '../engine/graph';
import type { CLIPTextConfig } from './config';
import { attention, layerNorm, linear } from './layers';
import { ZEROS, normal, type ModelParams } from './params';

const PREFIX = 'text_model';

/**
 * transformers ≥ 5 saves CLIPTextModel without the `text_model.` prefix; older files carry an int64
 * `position_ids` buffer. Maps a loaded file's names onto the ones this builder uses.
 */
export function canonicalCLIPTextName(name: string): string | null {
  const full = name.startsWith(`${PREFIX}.`) ? name : `${PREFIX}.${name}`;
  return full === `${PREFIX}.embeddings.position_ids` ? null : full;
}

export interface CLIPTextOutputs {
  /** [B, L, hidden] after final_layer_norm. */
  lastHiddenState: Tensor;
  /** [B, hidden]: the state at the end-of-text token (built only if used). */
  pooled: Tensor;
}

/** CLIPTextModel.forward(input_ids) without attention_mask (as Stable Diffusion calls it), causal self-attention. */
export function clipTextForward(p: ModelParams, c: CLIPTextConfig, inputIds: Tensor): CLIPTextOutputs {
  const g = p.g;
  if (inputIds.rank !== 2 || inputIds.dtype !== 'int64') throw new Error(`CLIPTextModel: input_ids must be int64 [B, L], got ${inputIds}`);
  const [b, l] = inputIds.shape as [number, number];
  if (l > c.max_position_embeddings) throw new Error(`CLIPTextModel: sequence length ${l} exceeds max_position_embeddings ${c.max_position_embeddings}`);
  const d = c.hidden_size;
  const L = c.num_hidden_layers;

  // Initial scales follow CLIPPreTrainedModel._init_weights (initializer_factor 1).
  const tokenTable = p.param(`${PREFIX}.embeddings.token_embedding.weight`, [c.vocab_size, d], normal(0.02));
  const posTable = p.param(`${PREFIX}.embeddings.position_embedding.weight`, [c.max_position_embeddings, d], normal(0.02));
  const positions = l === c.max_position_embeddings ? posTable : g.slice(posTable, [0], [l]);
  let h = g.reshape(g.add(g.gather(tokenTable, inputIds), positions), [b * l, d]);

  // Causal mask: position i attends to j ≤ i (transformers adds finfo(float32).min above the diagonal).
  const mask = new Float32Array(l * l);
  for (let i = 0; i < l; i++) for (let j = i + 1; j < l; j++) mask[i * l + j] = -3.4028234663852886e38;
  const causal = g.constant(mask, [1, 1, l, l]);

  const heads = c.num_attention_heads;
  const inProjStd = d ** -0.5 * (2 * L) ** -0.5;
  for (let i = 0; i < L; i++) {
    const n = `${PREFIX}.encoder.layers.${i}`;
    const a = `${n}.self_attn`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj']) initAs(p, `${a}.${proj}`, [d, d], inProjStd);
    initAs(p, `${a}.out_proj`, [d, d], d ** -0.5);
    const names = { q: `${a}.q_proj`, k: `${a}.k_proj`, v: `${a}.v_proj`, out: `${a}.out_proj`, qkvBias: true };
    h = g.add(h, attention(p, names, layerNorm(p, `${n}.layer_norm1`, h, c.layer_norm_eps), null, b, heads, causal));
    initAs(p, `${n}.mlp.fc1`, [c.intermediate_size, d], (2 * d) ** -0.5);
    initAs(p, `${n}.mlp.fc2`, [d, c.intermediate_size], inProjStd);
    const mid = linear(p, `${n}.mlp.fc1`, layerNorm(p, `${n}.layer_norm2`, h, c.layer_norm_eps), c.intermediate_size);
    const act = c.hidden_act === 'quick_gelu' ? g.quickGelu(mid) : g.gelu(mid);
    h = g.add(h, linear(p, `${n}.mlp.fc2`, act, d));
  }
  h = layerNorm(p, `${PREFIX}.final_layer_norm`, h, c.layer_norm_eps);
  const lastHiddenState = g.reshape(h, [b, l, d]);
  return { lastHiddenState, pooled: pooledOutput(p, c, inputIds, lastHiddenState) };
}

/**
 * Creates a Linear's parameters with transformers' CLIP init (normal weight, zero bias) before
 * {@link linear} / {@link attention} ask for them with PyTorch's generic default.
 */
function initAs(p: ModelParams, name: string, shape: [number, number], std: number): void {
  p.param(`${name}.weight`, shape, normal(std));
  p.param(`${name}.bias`, [shape[0]], ZEROS);
}

/**
 * The hidden state at the end-of-text token of each sequence, as CLIPTextTransformer picks it:
 * the largest id when eos_token_id is 2 (legacy configs, where the EOT id is the vocabulary's
 * largest), otherwise the first position holding eos_token_id.
 *
 * Built from ops the WebGPU EP runs, so no node falls back to the CPU: its Cast, Add and Equal
 * kernels take no int64, so the ArgMax key is looked up per id in a float table (the id itself, or
 * 1 at eos_token_id) instead of cast or compared, and GatherND picks each sequence's row without
 * int64 offset arithmetic.
 */
function pooledOutput(p: ModelParams, c: CLIPTextConfig, inputIds: Tensor, hidden: Tensor): Tensor {
  const g = p.g;
  const [b] = inputIds.shape as [number, number];
  const legacy = c.eos_token_id === 2 || c.eos_token_id === null;
  // Float keys are exact below 2^24; ArgMax picks the first maximum.
  const keys = Float32Array.from({ length: c.vocab_size }, (_, id) => (legacy ? id : id === c.eos_token_id ? 1 : 0));
  const key = g.gather(g.constant(keys, [c.vocab_size]), inputIds);
  const pos = g.node('ArgMax', [key], [{ dtype: 'int64', shape: [b, 1] }], { axis: { kind: 'int', value: 1 }, keepdims: { kind: 'int', value: 1 } })[0]!;
  return g.node('GatherND', [hidden, pos], [{ dtype: hidden.dtype, shape: [b, hidden.shape[2]!] }], { batch_dims: { kind: 'int', value: 1 } })[0]!;
}
