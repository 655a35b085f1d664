/**
 * The identity of a base model, so a LoRA or embedding file can say which weights it was trained on and the studio
 * can refuse to apply it to others (the deltas of one base model are noise on another).
 *
 * Definition (stable across file layouts, dtypes on disk and tensor order):
 *   sha256 over, for each component in [unet, text_encoder]:
 *     "<component>\n", then for each tensor sorted by name (text-encoder names as transformers' CLIPTextModel
 *     names them, `text_model.…`, without the `position_ids` buffer):
 *       "<name> <d0>x<d1>… <hex sha256 of the float32 little-endian values>\n"
 *   A component with no weights (the seeded initialisation) contributes "<component> seeded <seed>\n".
 * The VAE is left out on purpose: LoRA and embeddings act on the UNet and text encoder only, and swapping a VAE
 * (as A1111 users do) does not make them wrong. Per-tensor digests keep every buffer handed to WebCrypto at one
 * tensor's size, so an SD 1.x model (~1 GB of UNet) is never concatenated in memory.
 */
import type { ModelFolder } from '../model/folder';
import { canonicalTextSource } from '../model/graphs';
import type { WeightSource } from '../model/params';
import { sha256Hex } from '../storage/contentHash';

const COMPONENTS = ['unet', 'text_encoder'] as const;

export async function baseModelHash(folder: ModelFolder): Promise<string> {
  const sources: Record<(typeof COMPONENTS)[number], WeightSource> = {
    unet: folder.unet.weights,
    text_encoder: canonicalTextSource(folder.textEncoder.weights),
  };
  let listing = '';
  for (const component of COMPONENTS) {
    const source = sources[component];
    if (source.kind === 'seeded') {
      listing += `${component} seeded ${source.seed}\n`;
      continue;
    }
    listing += `${component}\n`;
    for (const name of [...source.tensors.keys()].sort()) {
      const t = source.tensors.get(name)!;
      // Float32Array bytes are in the platform's order; every platform the studio runs on is little-endian. Weights
      // live in ordinary ArrayBuffers (never shared), which WebCrypto requires.
      const bytes = new Uint8Array(t.data.buffer as ArrayBuffer, t.data.byteOffset, t.data.byteLength);
      listing += `${name} ${t.shape.join('x')} ${await sha256Hex(bytes)}\n`;
    }
  }
  return sha256Hex(new TextEncoder().encode(listing));
}
