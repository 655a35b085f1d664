/**
 * The identifier's trained token-embedding rows as a textual-inversion file: one tensor `emb_params` [n_tokens, dim],
 * the layout AUTOMATIC1111 (single-tensor safetensors embeddings), kohya-ss and InvokeAI read, and that diffusers'
 * `load_textual_inversion(file, token="<identifier>")` loads. The token is also in the metadata (`token`), and the
 * studio's own row numbers (`studio_identifier_rows`), so the studio can bind it to the same rows again.
 */
import type { ModelFolder } from '../model/folder';
import { writeSafetensors } from '../model/safetensors';
import { readStudioMetadata, studioMetadataStrings, type StudioExportMetadata } from './exportMetadata';
import { InteropError } from './interopError';
import { decodeChecked, parseUntrusted } from './untrustedFile';

export const EMBEDDING_TENSOR = 'emb_params';
const TOKEN_KEY = 'token';
const ROWS_KEY = 'studio_identifier_rows';

export function exportEmbedding(rows: Float32Array, identifierRows: readonly number[], meta: StudioExportMetadata): Uint8Array {
  const n = identifierRows.length;
  if (n === 0 || rows.length % n !== 0) throw new InteropError(EMBEDDING_TENSOR, `${rows.length} values do not split into ${n} identifier rows`);
  return writeSafetensors(new Map([[EMBEDDING_TENSOR, { shape: [n, rows.length / n], data: rows }]]), {
    metadata: { format: 'pt', ...studioMetadataStrings(meta), [TOKEN_KEY]: meta.identifier, [ROWS_KEY]: JSON.stringify(identifierRows) },
  });
}

/**
 * The embedding rows of a textual-inversion file and the token-table rows they belong to: `identifierRows` when the
 * caller bound the identifier, else the rows the studio recorded in the file.
 */
export function importEmbedding(file: Uint8Array, base: ModelFolder, identifierRows?: readonly number[]) {
  const parsed = parseUntrusted(file, 'the embedding file');
  const meta = readStudioMetadata(parsed.metadata);
  const unknown = [...parsed.entries.keys()].find((k) => k !== EMBEDDING_TENSOR);
  if (unknown !== undefined) throw new InteropError(unknown, `not a textual-inversion tensor (expected only ${EMBEDDING_TENSOR})`);
  if (!parsed.entries.has(EMBEDDING_TENSOR)) throw new InteropError(EMBEDDING_TENSOR, 'is missing');
  const t = decodeChecked(parsed, EMBEDDING_TENSOR);
  const { hidden_size: dim, vocab_size: vocab } = base.textEncoder.config;
  const [n = 0, d] = t.shape.length === 1 ? [1, t.shape[0]] : t.shape;
  if (t.shape.length > 2 || n < 1 || d !== dim)
    throw new InteropError(EMBEDDING_TENSOR, `shape [${t.shape.join(', ')}] does not fit this text encoder (expected [n_tokens, ${dim}])`);
  const rows = identifierRows ?? recordedRows(parsed.metadata[ROWS_KEY]);
  if (rows.length !== n) throw new InteropError(EMBEDDING_TENSOR, `holds ${n} token rows but the identifier binds ${rows.length}`);
  const outside = rows.find((r) => !Number.isInteger(r) || r < 0 || r >= vocab);
  if (outside !== undefined) throw new InteropError(`__metadata__.${ROWS_KEY}`, `row ${outside} is outside the token table (${vocab} rows)`);
  const token = parsed.metadata[TOKEN_KEY];
  return { rows: t.data, identifierRows: [...rows], meta: meta as Partial<StudioExportMetadata>, ...(token !== undefined ? { token } : {}) };
}

function recordedRows(raw: string | undefined): number[] {
  const at = `__metadata__.${ROWS_KEY}`;
  if (raw === undefined) throw new InteropError(at, 'is missing: bind the identifier to token rows first (identifierRows)');
  let rows: unknown;
  try {
    rows = JSON.parse(raw);
  } catch (e) {
    throw new InteropError(at, `is not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(rows) || !rows.every((r) => typeof r === 'number')) throw new InteropError(at, 'is not a list of row numbers');
  return rows as number[];
}
