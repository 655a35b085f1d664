/**
 * A compact-vocabulary model exported with CLIP's tokenizer (clipTokenizerFiles.ts) and a text encoder reading CLIP's
 * ids (clipVocabularyExport.ts) means what the studio means: the files tokenize as the studio's ClipTokenizer does (checked
 * with a BPE written here from OpenAI's simple_tokenizer.py, reading only vocab.json / merges.txt / added_tokens.json), and
 * the expanded text encoder's output equals the compact model's for prompts with unknown words and the identifier.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { bindIdentifier } from '../dreambooth/identifierBinding';
import { runGraph } from '../engine/graph/runWasm';
import { builtinModelSource, loadGenerationModel, type GenerationModel } from '../generation/generationModel';
import type { FolderReader, ModelFolder } from '../model/folder';
import { buildTextEncoderGraph } from '../model/graphs';
import { ClipTokenizer, END_OF_TEXT_ID, START_OF_TEXT_ID } from '../text/clipTokenizer';
import { UNK_ROW, type CompactVocabulary } from '../text/compactVocabulary';
import { CLIP_TOKENIZER_FILES } from './clipTokenizerFiles';
import { CLIP_VOCAB_SIZE } from './clipVocabularyExport';
import { diffusersFolderFiles, importDiffusersFolder } from './diffusersFolder';
import { modelFolderExtras } from './modelFolderExtras';
import { withTrainedIdentifier } from './testing/trainedIdentifier';

const IDENTIFIER = 'zovy';
const PROMPTS = [
  `a photo of ${IDENTIFIER} dog`,
  `A ${IDENTIFIER} dog, on the beach — at 3:45pm!!`,
  `quixotic xylophones near ${IDENTIFIER}'s kennel`,
  'café déjà vu: naïve Ångström 東京 🐶🎉',
  "  it's   a\tdog's   (wet) nose... #1 ",
];
/** Added tokens are matched as written (transformers' tokens trie), so "ZOVY" is BPE'd; the studio's compact vocabulary matched it. */
const TOKENIZER_PROMPTS = [...PROMPTS, 'the ZOVY dog', `${IDENTIFIER}${IDENTIFIER}x`];

const text = (files: ReadonlyMap<string, Uint8Array>, path: string) => new TextDecoder().decode(files.get(path));
const reader =
  (files: ReadonlyMap<string, Uint8Array>): FolderReader =>
  async (path) =>
    files.get(path) ?? null;

/** OpenAI's simple_tokenizer.py on the exported files: byte symbols, CLIP's split pattern, BPE by merge rank. */
function independentTokenizer(files: ReadonlyMap<string, Uint8Array>) {
  const vocab = JSON.parse(text(files, CLIP_TOKENIZER_FILES.vocab)) as Record<string, number>;
  const lines = text(files, CLIP_TOKENIZER_FILES.merges).split('\n');
  const ranks = new Map(lines.slice(1, 49152 - 256 - 2 + 1).map((line, i) => [line, i]));
  const added = files.has(CLIP_TOKENIZER_FILES.addedTokens) ? (JSON.parse(text(files, CLIP_TOKENIZER_FILES.addedTokens)) as Record<string, number>) : {};
  const printable = [...range(33, 127), ...range(161, 173), ...range(174, 256)];
  const byteSymbol: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) byteSymbol[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + extra++);
  const bpe = (token: string) => {
    let word = [...token.slice(0, -1)].concat(`${token.at(-1)}</w>`);
    for (;;) {
      let best: number | undefined;
      for (let i = 0; i + 1 < word.length; i++) {
        const r = ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && (best === undefined || r < ranks.get(`${word[best]} ${word[best + 1]}`)!)) best = i;
      }
      if (best === undefined) return word;
      const [first, second] = [word[best]!, word[best + 1]!];
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        const pair = word[i] === first && word[i + 1] === second;
        merged.push(pair ? first + second : word[i]!);
        if (pair) i++;
      }
      word = merged;
    }
  };
  const pattern = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;
  const encode = (s: string) =>
    [...s.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase().matchAll(pattern)].flatMap((m) =>
      bpe(Array.from(new TextEncoder().encode(m[0]), (b) => byteSymbol[b]!).join('')).map((piece) => vocab[piece]!),
    );
  return (prompt: string) => {
    const ids: number[] = [];
    let rest = prompt;
    for (;;) {
      const hits = Object.keys(added)
        .map((t) => [rest.indexOf(t), t] as const)
        .filter(([at]) => at >= 0);
      if (!hits.length) break;
      const [at, token] = hits.sort((a, b) => a[0] - b[0] || b[1].length - a[1].length)[0]!;
      ids.push(...encode(rest.slice(0, at)), added[token]!);
      rest = rest.slice(at + token.length);
    }
    return [vocab['<|startoftext|>']!, ...[...ids, ...encode(rest)].slice(0, 75), vocab['<|endoftext|>']!];
  };
}

function range(from: number, to: number) {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

let base: GenerationModel;
let vocabulary: CompactVocabulary;
let trained: ModelFolder;
let files: Map<string, Uint8Array>;

beforeAll(async () => {
  base = await loadGenerationModel(builtinModelSource());
  ({ folder: trained, vocabulary } = withTrainedIdentifier(base.folder, base.vocabulary!, IDENTIFIER, 3));
  files = diffusersFolderFiles(trained, undefined, { schedulerConfig: base.schedulerConfig, vocabulary });
}, 60_000);

describe('CLIP tokenizer files', () => {
  test('are openai/clip-vit-large-patch14’s: 49,408 pieces, 48,894 merges, start/end at 49406/49407, the identifier added at 49408', () => {
    const vocab = JSON.parse(text(files, CLIP_TOKENIZER_FILES.vocab)) as Record<string, number>;
    expect(Object.keys(vocab)).toHaveLength(49408);
    expect(new Set(Object.values(vocab)).size).toBe(49408);
    expect([vocab['!'], vocab['!</w>'], vocab['<|startoftext|>'], vocab['<|endoftext|>'], vocab['dog</w>']]).toEqual([
      0,
      256,
      START_OF_TEXT_ID,
      END_OF_TEXT_ID,
      1929,
    ]);
    const merges = text(files, CLIP_TOKENIZER_FILES.merges).trimEnd().split('\n');
    expect(merges[0]).toBe('#version: 0.2');
    expect(merges.slice(1, 3)).toEqual(['i n', 't h']);
    expect(merges).toHaveLength(48894 + 1);
    expect(JSON.parse(text(files, CLIP_TOKENIZER_FILES.addedTokens))).toEqual({ [IDENTIFIER]: 49408 });
    const config = JSON.parse(text(files, CLIP_TOKENIZER_FILES.config)) as Record<string, unknown>;
    expect(config).toMatchObject({ tokenizer_class: 'CLIPTokenizer', model_max_length: 77, pad_token: '<|endoftext|>', bos_token: '<|startoftext|>' });
    expect(config.added_tokens_decoder).toMatchObject({ '49408': { content: IDENTIFIER, special: false } });
    expect(files.has('tokenizer/compact_vocabulary.json')).toBe(false);
    expect((JSON.parse(text(files, 'model_index.json')) as Record<string, unknown>).tokenizer).toEqual(['transformers', 'CLIPTokenizer']);
  });

  test.each(TOKENIZER_PROMPTS)('an independent BPE on the files tokenizes %j as the studio’s ClipTokenizer does', (prompt) => {
    const tokenize = independentTokenizer(files);
    const added = new Map([[IDENTIFIER, 49408]]);
    const studio = ClipTokenizer.shared().tokenize(prompt, { addedTokens: added });
    expect(tokenize(prompt)).toEqual(Array.from(studio.ids.subarray(0, studio.length)));
  });
});

describe('the text encoder reading CLIP ids', () => {
  test('has CLIP’s table plus the identifier, and start/end ids in its config', async () => {
    const back = await importDiffusersFolder(reader(files));
    expect(back.textEncoder.config).toMatchObject({
      vocab_size: CLIP_VOCAB_SIZE + 1,
      bos_token_id: START_OF_TEXT_ID,
      eos_token_id: END_OF_TEXT_ID,
      pad_token_id: 1,
    });
  });

  test('loads back as a CLIP-id model and gives the compact model’s last_hidden_state for every prompt (≤ 1e-5)', { timeout: 120_000 }, async () => {
    const exported = await loadGenerationModel({ id: 'export', revision: 'test', read: reader(files) });
    expect(exported.tokenizer.kind).toBe('clip');
    expect(exported.vocabulary).toBeNull();
    // Training on the imported folder binds the identifier to its added token's row, the row the export filled.
    expect(bindIdentifier(exported, IDENTIFIER).rows).toEqual([CLIP_VOCAB_SIZE]);
    const compactIds = PROMPTS.map((p) => vocabulary.tokenize(p, ClipTokenizer.shared()).ids);
    const clipIds = PROMPTS.map((p) => exported.tokenizer.tokenize(p));
    // The prompts reach every kind of row: the identifier, words the model never saw (<unk>), known words.
    const all = compactIds.flatMap((ids) => Array.from(ids));
    expect(all).toContain(vocabulary.identifierRow(IDENTIFIER));
    expect(all).toContain(UNK_ROW);
    expect(clipIds.flatMap((ids) => Array.from(ids))).toContain(49408);

    const run = async (folder: ModelFolder, ids: Int32Array[]) => {
      const { graph } = buildTextEncoderGraph(folder.textEncoder.config, folder.textEncoder.weights, { batch: ids.length });
      const input = BigInt64Array.from(ids.flatMap((row) => Array.from(row, BigInt)));
      return (await runGraph(graph, { input_ids: input })).last_hidden_state as Float32Array;
    };
    const studio = await run(trained, compactIds);
    const other = await run(exported.folder, clipIds);
    let diff = 0;
    for (let i = 0; i < studio.length; i++) diff = Math.max(diff, Math.abs(studio[i]! - other[i]!));
    expect(diff).toBeLessThanOrEqual(1e-5);
    // Without the identifier's added token the identifier prompt comes out different: the comparison can fail.
    const plain = await run(exported.folder, [ClipTokenizer.shared().tokenize(PROMPTS[0]!).ids]);
    const first = studio.subarray(0, plain.length);
    expect(Math.max(...first.map((v, i) => Math.abs(v - plain[i]!)))).toBeGreaterThan(1e-3);
    console.log(`max |Δ last_hidden_state| over ${PROMPTS.length} prompts: ${diff}`);
  });

  test('exported again (a CLIP-id model), the folder keeps CLIP’s tokenizer with the added token, and tokenizes the same', async () => {
    const exported = await loadGenerationModel({ id: 'export', revision: 'test', read: reader(files) });
    const again = diffusersFolderFiles(exported.folder, undefined, modelFolderExtras(exported));
    const index = JSON.parse(text(again, 'model_index.json')) as Record<string, unknown>;
    expect(index.tokenizer).toEqual(['transformers', 'CLIPTokenizer']);
    for (const path of Object.values(CLIP_TOKENIZER_FILES)) expect(text(again, path)).toBe(text(files, path));
    const reloaded = await loadGenerationModel({ id: 'again', revision: 'test', read: reader(again) });
    for (const prompt of TOKENIZER_PROMPTS) expect(reloaded.tokenizer.tokenize(prompt)).toEqual(exported.tokenizer.tokenize(prompt));
  });

  test('an added token past the token table, or an added_tokens.json that is not token → id, is refused', async () => {
    const edited = (json: string) => reader(new Map([...files, [CLIP_TOKENIZER_FILES.addedTokens, new TextEncoder().encode(json)]]));
    await expect(importDiffusersFolder(edited('{"zovy": 49409}'))).rejects.toThrow('added token "zovy" has id 49409, outside the text encoder\'s 49409 rows');
    await expect(importDiffusersFolder(edited('["zovy"]'))).rejects.toThrow('tokenizer/added_tokens.json: is not an object of token → id');
  });
});
