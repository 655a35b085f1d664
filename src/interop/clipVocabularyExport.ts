/**
 * A model whose text encoder reads a compact vocabulary (src/text/compactVocabulary.ts) rewritten to read CLIP's own
 * token ids, so CLIPTokenizer + CLIPTextModel (diffusers, AUTOMATIC1111, kohya) run it unchanged:
 *
 * - the token table grows to CLIP's 49,408 rows: each id the vocabulary knows gets its trained row, every other id the
 *   `<unk>` row (what the studio feeds for it), `<|startoftext|>` / `<|endoftext|>` the start / end rows;
 * - each bound identifier becomes an added token after them (49408, …) holding its reserved row, as diffusers'
 *   `load_textual_inversion` adds one;
 * - positions and every other weight stay as they are, so the model computes for any prompt what the studio computes.
 */
import { componentTensors } from '../model/componentTensors';
import type { ModelFolder } from '../model/folder';
import type { Float32Tensor } from '../model/safetensors';
import { END_OF_TEXT_ID, START_OF_TEXT_ID } from '../text/clipTokenizer';
import type { CompactVocabulary } from '../text/compactVocabulary';
import { clipTokenizerFiles } from './clipTokenizerFiles';

const TOKEN_TABLE = 'text_model.embeddings.token_embedding.weight';
/** CLIP's vocabulary: every id below this is a BPE piece or a start/end token. */
export const CLIP_VOCAB_SIZE = END_OF_TEXT_ID + 1;

export interface ClipVocabularyModel {
  folder: ModelFolder;
  /** tokenizer/… files of the CLIP tokenizer, with the identifiers as added tokens. */
  tokenizerFiles: Map<string, Uint8Array>;
}

export function clipVocabularyModel(folder: ModelFolder, vocabulary: CompactVocabulary): ClipVocabularyModel {
  // Under the builders' names, whatever the file's transformers version named them.
  const source = componentTensors(folder, 'text_encoder');
  const compact = source.get(TOKEN_TABLE);
  if (!compact) throw new Error(`text_encoder: ${TOKEN_TABLE} is missing`);
  const [rows = 0, dim = 0] = compact.shape;
  if (rows < vocabulary.rowCount) throw new Error(`text_encoder: the token table has ${rows} rows but the compact vocabulary ${vocabulary.rowCount}`);
  const identifierRows = vocabulary.identifiers.map((name) => vocabulary.identifierRow(name)!);
  // rowOf maps start/end to their fixed rows and every id the vocabulary does not know to <unk>.
  const sourceRows = [...Array.from({ length: CLIP_VOCAB_SIZE }, (_, id) => vocabulary.rowOf(id)), ...identifierRows];
  const table = new Float32Array(sourceRows.length * dim);
  sourceRows.forEach((row, id) => table.set(compact.data.subarray(row * dim, (row + 1) * dim), id * dim));
  const tensors = new Map<string, Float32Tensor>(source);
  tensors.set(TOKEN_TABLE, { shape: [sourceRows.length, dim], data: table });
  const textEncoder = {
    ...folder.textEncoder,
    // eos_token_id 49407 (not SD 1.x's legacy 2) makes transformers pool at the first <|endoftext|>, not at the
    // largest id, which an added token would be; pad_token_id 1 as SD 1.x's config has it (only padding masks read it).
    config: { ...folder.textEncoder.config, vocab_size: sourceRows.length, bos_token_id: START_OF_TEXT_ID, eos_token_id: END_OF_TEXT_ID, pad_token_id: 1 },
    weights: { kind: 'weights' as const, tensors },
  };
  return {
    folder: { ...folder, textEncoder },
    tokenizerFiles: clipTokenizerFiles(new Map(vocabulary.identifiers.map((name, i) => [name, CLIP_VOCAB_SIZE + i]))),
  };
}
