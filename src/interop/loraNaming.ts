/**
 * Tensor names of a UNet LoRA in the two namings other tools read, and their inverse.
 *
 * - 'peft' — diffusers' `StableDiffusionPipeline.save_lora_weights` / `load_lora_weights` (peft state dict under the
 *   `unet.` prefix, diffusers loaders/lora_base.py `_pack_dict_with_prefix`):
 *     unet.<module path>.lora_A.weight   [r, in]      (down)
 *     unet.<module path>.lora_B.weight   [out, r]     (up)
 *   alpha is not a tensor: it is the peft LoraConfig (`lora_alpha`, `r`, …) stored as JSON under the safetensors
 *   `__metadata__` key `lora_adapter_metadata`, each key prefixed with the component (`unet.lora_alpha`) — see
 *   diffusers loaders/lora_base.py (LORA_ADAPTER_METADATA_KEY, `write_lora_layers`, `_save_lora_weights`); on load,
 *   loaders/peft.py `load_lora_adapter` strips the prefix and `_create_lora_config` builds `LoraConfig(**metadata)`,
 *   or, without metadata, takes lora_alpha = r.
 * - 'kohya' — kohya-ss sd-scripts networks/lora.py, read by AUTOMATIC1111 and ComfyUI: the LoRA module's name is
 *   `LORA_PREFIX_UNET + "." + <module path>` with every "." replaced by "_" (sd-scripts' SD 1.x UNet uses diffusers'
 *   module paths), and
 *     lora_unet_<module_path_with_underscores>.lora_down.weight   [r, in]
 *     lora_unet_<module_path_with_underscores>.lora_up.weight     [out, r]
 *     lora_unet_<module_path_with_underscores>.alpha              scalar; the delta is alpha/r · up·down
 *   diffusers reads the same file through lora_conversion_utils.py `_convert_non_diffusers_lora_to_diffusers`.
 *
 * The kohya name loses which "_" were "." (down_blocks, to_out_0), so it is inverted by lookup among the base
 * model's own module paths ({@link kohyaIndex}), never by guessing.
 */
import type { LoraNaming } from './loraFile';

/** diffusers' `unet_name` prefix of the UNet's keys in a pipeline LoRA file (the studio's graph names happen to share it). */
const PEFT_UNET_PREFIX = 'unet.';
const KOHYA_UNET_PREFIX = 'lora_unet_';
/** Text-encoder adapters in either naming (refused: the studio trains and merges UNet LoRA only). */
const TEXT_ENCODER_LORA = /^(?:text_encoder(?:_2)?\.|lora_te[12]?_)/;

export type LoraPart = 'down' | 'up' | 'alpha';

const PEFT_SUFFIX = { down: '.lora_A.weight', up: '.lora_B.weight' } as const;
const KOHYA_SUFFIX = { down: '.lora_down.weight', up: '.lora_up.weight', alpha: '.alpha' } as const;

/** The kohya module name of a UNet module path. */
function kohyaModuleName(module: string): string {
  return `${KOHYA_UNET_PREFIX}${module.replace(/\./g, '_')}`;
}

/** The file's tensor names for one adapter on `module` (a UNet module path such as `mid_block.….attn1.to_q`). */
export function loraKeys(module: string, naming: LoraNaming): { down: string; up: string; alpha?: string } {
  if (naming === 'peft') return { down: `${PEFT_UNET_PREFIX}${module}${PEFT_SUFFIX.down}`, up: `${PEFT_UNET_PREFIX}${module}${PEFT_SUFFIX.up}` };
  const stem = kohyaModuleName(module);
  return { down: `${stem}${KOHYA_SUFFIX.down}`, up: `${stem}${KOHYA_SUFFIX.up}`, alpha: `${stem}${KOHYA_SUFFIX.alpha}` };
}

/** The naming a file's keys are in, from its first LoRA-looking key; null when none looks like either. */
export function detectNaming(keys: readonly string[]): LoraNaming | null {
  for (const key of keys) {
    if (key.startsWith(KOHYA_UNET_PREFIX) || /\.(?:lora_down\.weight|lora_up\.weight|alpha)$/.test(key)) return 'kohya';
    if (key.startsWith(PEFT_UNET_PREFIX) || /\.lora_[AB]\.weight$/.test(key)) return 'peft';
  }
  return null;
}

/** kohya module name → UNet module path, over the modules a LoRA can adapt (Linear and Conv weights). */
export type KohyaIndex = ReadonlyMap<string, string | { ambiguous: string[] }>;

export function kohyaIndex(modules: Iterable<string>): KohyaIndex {
  const index = new Map<string, string | { ambiguous: string[] }>();
  for (const module of modules) {
    const name = kohyaModuleName(module);
    const seen = index.get(name);
    if (seen === undefined) index.set(name, module);
    else index.set(name, { ambiguous: [...(typeof seen === 'string' ? [seen] : seen.ambiguous), module] });
  }
  return index;
}

export type ParsedKey = { module: string; part: LoraPart } | { problem: string };

/** Which module and part a tensor name addresses, or why it is not a key of `naming`. */
export function parseLoraKey(key: string, naming: LoraNaming, kohya: KohyaIndex, hasModule: (module: string) => boolean): ParsedKey {
  const suffixes: Partial<Record<LoraPart, string>> = naming === 'peft' ? PEFT_SUFFIX : KOHYA_SUFFIX;
  const prefix = naming === 'peft' ? PEFT_UNET_PREFIX : KOHYA_UNET_PREFIX;
  const expected = naming === 'peft' ? 'unet.<module>.lora_A.weight / .lora_B.weight' : 'lora_unet_<module>.lora_down.weight / .lora_up.weight / .alpha';
  if (TEXT_ENCODER_LORA.test(key)) return { problem: 'text-encoder LoRA adapters are not supported (the studio applies LoRA to the UNet only)' };
  const part = (Object.keys(suffixes) as LoraPart[]).find((p) => key.endsWith(suffixes[p]!));
  if (!key.startsWith(prefix) || part === undefined) return { problem: `not a ${naming} LoRA tensor name (expected ${expected})` };
  const stem = key.slice(0, -suffixes[part]!.length);
  if (naming === 'peft') {
    const module = stem.slice(prefix.length);
    return hasModule(module) ? { module, part } : { problem: `the base model has no module ${module}` };
  }
  const module = kohya.get(stem);
  if (module === undefined) return { problem: `the base model has no module named ${stem} (kohya names are lora_unet_ + the module path with "." → "_")` };
  if (typeof module !== 'string') return { problem: `${stem} could be any of ${module.ambiguous.join(', ')}` };
  return { module, part };
}
