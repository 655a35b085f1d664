/**
 * A trained subject as files other tools load: the UNet LoRA adapters as one safetensors file in peft/diffusers or
 * kohya naming (src/interop/loraNaming.ts), and the identifier's trained embedding rows as a textual-inversion file
 * (src/interop/embeddingFile.ts) — and the same files read back into the studio, checked key by key.
 *
 * Every file's `__metadata__` records the base model's hash, identifier, class, steps, settings and studio version
 * (src/interop/exportMetadata.ts); a file that records a base model refuses to load onto another one.
 */
import type { LoraAdapter } from '../engine/lora/lora';
import type { TrainedValues } from '../dreambooth/personalizedModel';
import { IDENTIFIER_EMBEDDINGS, UNET_PREFIX } from '../dreambooth/trainGraph';
import type { ModelFolder } from '../model/folder';
import { writeSafetensors, type Float32Tensor } from '../model/safetensors';
import { exportEmbedding, importEmbedding } from './embeddingFile';
import { STUDIO_KEYS, readStudioMetadata, studioMetadataStrings, type StudioExportMetadata } from './exportMetadata';
import { InteropError } from './interopError';
import { detectNaming, kohyaIndex, loraKeys, parseLoraKey, type LoraPart } from './loraNaming';
import { componentTensors } from './componentTensors';
import { decodeChecked, parseUntrusted } from './untrustedFile';

export { baseModelHash } from './baseModelHash';
export type { StudioExportMetadata } from './exportMetadata';

export type LoraNaming = 'peft' | 'kohya';

/** diffusers' metadata key for the peft LoraConfig (diffusers loaders/lora_base.py LORA_ADAPTER_METADATA_KEY). */
export const LORA_ADAPTER_METADATA_KEY = 'lora_adapter_metadata';

export interface ImportedLora {
  /** With each LoRA tensor's shape in the file (Conv adapters are 4-D), so exportLora writes the same layout again. */
  values: ExportableValues;
  meta: Partial<StudioExportMetadata>;
  naming: LoraNaming;
  /** The identifier the embedding file (or else the LoRA file) names. */
  identifier?: string;
}

/** Trained values to export, optionally with tensor shapes (values from the studio's trainer are all Linear). */
export type ExportableValues = TrainedValues & { shapes?: ReadonlyMap<string, readonly number[]> };

/**
 * The LoRA file (and, when the identifier's embedding trained, the textual-inversion file).
 * @throws InteropError when the values hold fully trained weights, which no LoRA can carry.
 */
export function exportLora(values: ExportableValues, meta: StudioExportMetadata, naming: LoraNaming): { lora: Uint8Array; embedding?: Uint8Array } {
  const full = meta.settings.unet === 'full' ? 'the UNet' : meta.settings.textEncoder === 'full' ? 'the text encoder' : null;
  if (full) throw fullModelError(`${full} was fully fine-tuned`);
  const adapterTensors = new Set(values.adapters.flatMap((ad) => [ad.a, ad.b]));
  const other = [...values.tensors.keys()].find((name) => !adapterTensors.has(name) && name !== IDENTIFIER_EMBEDDINGS);
  if (other !== undefined) throw fullModelError(`${other} is a fully trained weight`);
  if (values.adapters.length === 0) throw new InteropError(null, 'the checkpoint has no LoRA adapters to export');

  const tensors = new Map<string, Float32Tensor>();
  for (const ad of values.adapters) {
    const module = adapterModule(ad);
    const keys = loraKeys(module, naming);
    const a = values.tensors.get(ad.a)!;
    const b = values.tensors.get(ad.b)!;
    tensors.set(keys.down, { shape: [...(values.shapes?.get(ad.a) ?? [ad.rank, a.length / ad.rank])], data: a });
    tensors.set(keys.up, { shape: [...(values.shapes?.get(ad.b) ?? [b.length / ad.rank, ad.rank])], data: b });
    if (keys.alpha) tensors.set(keys.alpha, { shape: [], data: Float32Array.of(ad.alpha) });
  }
  const metadata = { format: 'pt', ...studioMetadataStrings(meta), ...(naming === 'peft' ? peftMetadata(values.adapters) : kohyaMetadata(values.adapters)) };
  const lora = writeSafetensors(tensors, { metadata });
  const rows = values.tensors.get(IDENTIFIER_EMBEDDINGS);
  return rows ? { lora, embedding: exportEmbedding(rows, values.identifierRows, meta) } : { lora };
}

/**
 * Reads a LoRA file of either naming (and optionally its embedding file) for `base`, whose {@link baseModelHash} is
 * `baseHash`.
 * @throws InteropError naming the key and the reason for anything it refuses: a damaged file, an unknown key, a
 *   module the base model lacks, inconsistent shapes, non-float or non-finite data, another base model.
 */
export function importLora(
  file: Uint8Array,
  base: ModelFolder,
  baseHash: string,
  o: { embedding?: Uint8Array; identifierRows?: readonly number[] } = {},
): ImportedLora {
  const parsed = parseUntrusted(file, 'the LoRA file');
  const meta = readStudioMetadata(parsed.metadata);
  checkBaseModel(meta, baseHash);
  const keys = [...parsed.entries.keys()];
  const naming = detectNaming(keys);
  if (naming === null)
    throw new InteropError(keys[0] ?? null, keys.length ? 'not a LoRA tensor name (neither peft nor kohya naming)' : 'the file holds no tensors');

  const weights = componentTensors(base, 'unet');
  const hasModule = (module: string) => [2, 4].includes(weights.get(`${module}.weight`)?.shape.length ?? 0);
  const kohya = kohyaIndex(
    [...weights.keys()]
      .filter((n) => n.endsWith('.weight'))
      .map((n) => n.slice(0, -'.weight'.length))
      .filter(hasModule),
  );
  const found = new Map<string, Partial<Record<LoraPart, { key: string; tensor: Float32Tensor }>>>();
  for (const key of keys) {
    const p = parseLoraKey(key, naming, kohya, hasModule);
    if ('problem' in p) throw new InteropError(key, p.problem);
    const parts = found.get(p.module) ?? {};
    parts[p.part] = { key, tensor: decodeChecked(parsed, key) };
    found.set(p.module, parts);
  }

  const config = naming === 'peft' ? peftConfig(parsed.metadata) : null;
  const tensors = new Map<string, Float32Array>();
  const shapes = new Map<string, readonly number[]>();
  const adapters: LoraAdapter[] = [];
  for (const [module, parts] of found) {
    const names = loraKeys(module, naming);
    const { down, up } = parts;
    if (!down) throw new InteropError((up ?? parts.alpha)!.key, `has no matching ${names.down}`);
    if (!up) throw new InteropError(down.key, `has no matching ${names.up}`);
    const rank = checkShapes(weights.get(`${module}.weight`)!.shape, down, up);
    const alpha = parts.alpha ? kohyaAlpha(parts.alpha, rank) : config ? config.alphaOf(module, rank, down.key) : rank;
    const stem = `${UNET_PREFIX}${module}`;
    const ad: LoraAdapter = { base: `${stem}.weight`, a: `${stem}.lora_A.weight`, b: `${stem}.lora_B.weight`, rank, alpha };
    adapters.push(ad);
    tensors.set(ad.a, down.tensor.data).set(ad.b, up.tensor.data);
    shapes.set(ad.a, down.tensor.shape).set(ad.b, up.tensor.shape);
  }

  let identifierRows: readonly number[] = [];
  let identifier = meta.identifier;
  if (o.embedding) {
    const emb = importEmbedding(o.embedding, base, o.identifierRows);
    checkBaseModel(emb.meta, baseHash);
    tensors.set(IDENTIFIER_EMBEDDINGS, emb.rows);
    identifierRows = emb.identifierRows;
    identifier = emb.token ?? identifier;
  }
  return { values: { tensors, adapters, identifierRows, shapes }, meta, naming, ...(identifier !== undefined ? { identifier } : {}) };
}

function fullModelError(what: string): InteropError {
  return new InteropError(null, `${what}: a LoRA file carries only low-rank adapters and embedding rows; export the full model instead (a diffusers folder)`);
}

/** The UNet module path of an adapter (`unet.x.to_q.weight` → `x.to_q`). */
function adapterModule(ad: LoraAdapter): string {
  if (!ad.base.startsWith(UNET_PREFIX) || !ad.base.endsWith('.weight')) throw new InteropError(ad.a, `adapts ${ad.base}, which is not a UNet weight`);
  return ad.base.slice(UNET_PREFIX.length, -'.weight'.length);
}

function checkBaseModel(meta: Partial<StudioExportMetadata>, baseHash: string): void {
  if (meta.baseModel !== undefined && meta.baseModel !== baseHash) {
    throw new InteropError(
      `__metadata__.${STUDIO_KEYS.baseModel}`,
      `the file was trained on base model ${meta.baseModel.slice(0, 12)}…, not on this one (${baseHash.slice(0, 12)}…)`,
    );
  }
}

/**
 * The rank, after checking A [r, in(, kH, kW)] and B [out, r(, 1, 1)] against each other and the base weight
 * [out, in(, kH, kW)].
 */
function checkShapes(w: readonly number[], down: { key: string; tensor: Float32Tensor }, up: { key: string; tensor: Float32Tensor }): number {
  const a = down.tensor.shape;
  const b = up.tensor.shape;
  const show = (s: readonly number[]) => `[${s.join(', ')}]`;
  const rank = a[0] ?? 0;
  if (a.length !== w.length || rank < 1 || a.slice(1).some((d, i) => d !== w[i + 1])) {
    throw new InteropError(down.key, `shape ${show(a)} does not fit the base weight ${show(w)} (expected [rank, ${w.slice(1).join(', ')}])`);
  }
  if (b.length !== w.length || b[0] !== w[0] || b.slice(2).some((d) => d !== 1)) {
    throw new InteropError(up.key, `shape ${show(b)} does not fit the base weight ${show(w)} (expected [${w[0]}, rank${w.length === 4 ? ', 1, 1' : ''}])`);
  }
  if (b[1] !== rank) throw new InteropError(up.key, `rank ${b[1]} differs from the rank ${rank} of ${down.key}`);
  return rank;
}

/** kohya's alpha: a scalar; 0 means "alpha = rank" (sd-scripts networks/lora.py: `if alpha is None or alpha == 0`). */
function kohyaAlpha(alpha: { key: string; tensor: Float32Tensor }, rank: number): number {
  if (alpha.tensor.data.length !== 1) throw new InteropError(alpha.key, `must be a scalar, got shape [${alpha.tensor.shape.join(', ')}]`);
  const v = alpha.tensor.data[0]!;
  return v === 0 ? rank : v;
}

interface PeftConfig {
  /** alpha of one adapter: the pattern's, else lora_alpha, else the rank (diffusers' default without metadata). */
  alphaOf(module: string, rank: number, key: string): number;
}

/** The `unet.`-prefixed peft LoraConfig diffusers stores under `lora_adapter_metadata`, if the file has one. */
function peftConfig(metadata: Readonly<Record<string, string>>): PeftConfig | null {
  const raw = metadata[LORA_ADAPTER_METADATA_KEY];
  if (raw === undefined) return null;
  const at = `__metadata__.${LORA_ADAPTER_METADATA_KEY}`;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new InteropError(at, `is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InteropError(at, 'is not a JSON object');
  // diffusers prefixes each LoraConfig field with the component it belongs to.
  const c = json as Record<string, unknown>;
  const field = (name: string) => `${UNET_PREFIX}${name}`;
  if (c[field('use_dora')] === true) throw new InteropError(at, 'DoRA adapters (use_dora) are not supported');
  const number = (name: string): number | undefined => {
    const v = c[field(name)];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new InteropError(at, `"${field(name)}" is ${JSON.stringify(v)}, not a number`);
    return v;
  };
  const pattern = (name: string): Record<string, number> => {
    const v = c[field(name)] ?? {};
    if (typeof v !== 'object' || v === null || Object.values(v).some((x) => typeof x !== 'number'))
      throw new InteropError(at, `"${field(name)}" is not a map of numbers`);
    return v as Record<string, number>;
  };
  const r = number('r');
  const loraAlpha = number('lora_alpha');
  const rankPattern = pattern('rank_pattern');
  const alphaPattern = pattern('alpha_pattern');
  // peft matches a pattern key against the end of the module path (peft tuners_utils, `(.*\.)?key$`).
  const matching = (patterns: Record<string, number>, module: string) => Object.entries(patterns).find(([k]) => module === k || module.endsWith(`.${k}`))?.[1];
  return {
    alphaOf(module, rank, key) {
      const expectedRank = matching(rankPattern, module) ?? r;
      if (expectedRank !== undefined && expectedRank !== rank)
        throw new InteropError(key, `rank ${rank} differs from the rank ${expectedRank} that ${at} gives`);
      return matching(alphaPattern, module) ?? loraAlpha ?? rank;
    },
  };
}

/** The peft LoraConfig fields diffusers passes to `LoraConfig(**metadata)`, prefixed `unet.` as it saves them. */
function peftMetadata(adapters: readonly LoraAdapter[]): Record<string, string> {
  const r = mostCommon(adapters.map((ad) => ad.rank));
  const alpha = mostCommon(adapters.map((ad) => ad.alpha));
  const config = {
    r,
    lora_alpha: alpha,
    target_modules: adapters.map(adapterModule),
    rank_pattern: Object.fromEntries(adapters.filter((ad) => ad.rank !== r).map((ad) => [adapterModule(ad), ad.rank])),
    alpha_pattern: Object.fromEntries(adapters.filter((ad) => ad.alpha !== alpha).map((ad) => [adapterModule(ad), ad.alpha])),
    init_lora_weights: true,
    use_dora: false,
  };
  return { [LORA_ADAPTER_METADATA_KEY]: JSON.stringify(Object.fromEntries(Object.entries(config).map(([k, v]) => [`${UNET_PREFIX}${k}`, v])), null, 2) };
}

/** sd-scripts' training metadata keys that A1111 and ComfyUI show (networks/lora.py is the network module). */
function kohyaMetadata(adapters: readonly LoraAdapter[]): Record<string, string> {
  return {
    ss_network_module: 'networks.lora',
    ss_network_dim: String(mostCommon(adapters.map((ad) => ad.rank))),
    ss_network_alpha: String(mostCommon(adapters.map((ad) => ad.alpha))),
  };
}

function mostCommon(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].reduce((best, e) => (e[1] > best[1] ? e : best))[0];
}
