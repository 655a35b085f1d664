/**
 * The `importModel` job: files a person brings from other tools, checked against the base model and stored as a
 * model the studio samples from (`imported:<id>`, see importedModels.ts).
 *
 * - One `.safetensors` LoRA (diffusers/peft or kohya key names), optionally with its identifier embedding: a second
 *   `.safetensors`, told from the LoRA by size (an embedding is a few vectors, a LoRA two matrices per adapted layer).
 * - A diffusers model folder: the files of a chosen directory, or a `.zip` of one (its top folder may wrap it).
 * - A `.zip` holding a LoRA and its embedding, as the studio's own export writes it.
 *
 * Everything is checked before anything is written: a file that does not fit is refused naming the exact key and the
 * reason, and storage stays as it was.
 */
import { unzipSync } from 'fflate';
import type { UseStore } from 'idb-keyval';
import type { ImportFile, ImportModelRequest } from '../dreambooth/jobTypes';
import { BUILTIN_MODEL_ID } from '../generation/generationModel';
import { importDiffusersFolder } from '../interop/diffusersFolder';
import { readStudioMetadata } from '../interop/exportMetadata';
import { parseUntrusted } from '../interop/untrustedFile';
import { JobError } from '../protocol/jobs';
import { saveImportedModel, type ImportedModelInfo } from '../storage/importedModels';
import type { ModelLoader } from './baseModels';
import { EMBEDDING_FILE, LORA_FILE, loraModel } from './importedModels';

/** The metadata key where src/interop/embeddingFile.ts records the identifier an embedding answers to. */
const EMBEDDING_TOKEN_KEY = 'token';

/** Uncompressed bytes a zip may declare: more than any SD 1.x folder in float32 (~4.3 GB); a zip bomb declares more. */
const MAX_UNZIPPED_BYTES = 6 * 1024 ** 3;

export async function importModel(store: UseStore, model: ModelLoader, request: ImportModelRequest): Promise<ImportedModelInfo> {
  const files = expandZips(checkRequest(request));
  const id = crypto.randomUUID();
  let checked: CheckedImport;
  try {
    checked = await checkImport(files, modelName(request.files), model);
  } catch (error) {
    if (error instanceof JobError) throw error;
    // InteropError names the key and the reason; config and safetensors errors name the file and the problem: the
    // person's input, not a crash.
    throw new JobError('bad-input', error instanceof Error ? error.message : String(error), 'files');
  }
  const blobs = new Map([...checked.files].map(([path, bytes]) => [path, new Blob([bytes as Uint8Array<ArrayBuffer>])]));
  const info: ImportedModelInfo = { id, ...checked.describes, files: [...blobs].map(([path, blob]) => ({ path, bytes: blob.size })), createdAt: Date.now() };
  await saveImportedModel(store, { info, files: blobs });
  return info;
}

interface CheckedImport {
  describes: Omit<ImportedModelInfo, 'id' | 'files' | 'createdAt'>;
  /** What to store, by the path the resolver reads it from. */
  files: Map<string, Uint8Array>;
}

async function checkImport(files: BytesFile[], name: string, model: ModelLoader): Promise<CheckedImport> {
  const folderRoot = diffusersRoot(files);
  if (folderRoot !== null) {
    const stored = new Map(files.filter((f) => f.path.startsWith(folderRoot)).map((f) => [f.path.slice(folderRoot.length), f.bytes]));
    await importDiffusersFolder(async (path) => stored.get(path) ?? null);
    return { describes: { kind: 'diffusers', name }, files: stored };
  }
  const weights = files.filter((f) => f.path.toLowerCase().endsWith('.safetensors')).sort((a, b) => b.bytes.byteLength - a.bytes.byteLength);
  const [lora, embedding] = weights;
  if (!lora || weights.length > 2) {
    throw new JobError(
      'bad-input',
      `expected a LoRA .safetensors file (optionally with its embedding file) or a diffusers model folder; got ${describe(files)}`,
      'files',
    );
  }
  const base = await model(BUILTIN_MODEL_ID);
  const meta = readStudioMetadata(parseUntrusted(lora.bytes, 'the LoRA file').metadata);
  const identifier = embedding ? embeddingToken(embedding) : meta.identifier;
  // Everything sampling will do with the files — keys, shapes, base model, the merge — happens once here.
  await loraModel(base, lora.bytes, embedding?.bytes ?? null, identifier, 'import-check').catch((error: unknown) => {
    // bindIdentifier's refusal speaks of the Subject step; here the word came with the files.
    if (error instanceof JobError && error.field === 'identifier') {
      throw new JobError(
        'bad-input',
        `the files' identifier "${identifier}" cannot be used with this model: ${error.message.replace(/; change it on the Subject step$/, '')}`,
        'files',
      );
    }
    throw error;
  });
  return {
    describes: {
      kind: 'lora',
      name,
      baseModelId: BUILTIN_MODEL_ID,
      ...(identifier ? { identifier } : {}),
      ...(meta.classNoun ? { classNoun: meta.classNoun } : {}),
    },
    files: new Map([[LORA_FILE, lora.bytes], ...(embedding ? [[EMBEDDING_FILE, embedding.bytes] as const] : [])]),
  };
}

/** The word an embedding answers to: the token its metadata records, else (as in AUTOMATIC1111) its file name. */
function embeddingToken(embedding: BytesFile): string {
  const recorded = parseUntrusted(embedding.bytes, 'the embedding file').metadata[EMBEDDING_TOKEN_KEY];
  return (
    recorded ??
    embedding.path
      .split('/')
      .pop()!
      .replace(/\.safetensors$/i, '')
  );
}

type BytesFile = { path: string; bytes: Uint8Array };

function checkRequest(request: unknown): BytesFile[] {
  const files = (request as Partial<ImportModelRequest> | null)?.files;
  if (!Array.isArray(files) || files.length === 0)
    throw new JobError('bad-input', 'choose a LoRA .safetensors file or a diffusers model folder to import', 'files');
  return files.map((f: Partial<ImportFile>) => {
    if (typeof f?.path !== 'string' || !(f.bytes instanceof ArrayBuffer)) throw new JobError('bad-input', 'each file needs a path and its bytes', 'files');
    return { path: f.path.replace(/\\/g, '/'), bytes: new Uint8Array(f.bytes) };
  });
}

/** Each `.zip` replaced by the files in it (with their paths inside the zip). */
function expandZips(files: BytesFile[]): BytesFile[] {
  return files.flatMap((f) => {
    if (!f.path.toLowerCase().endsWith('.zip')) return [f];
    let total = 0;
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(f.bytes, {
        filter: (entry) => {
          total += entry.originalSize;
          if (total > MAX_UNZIPPED_BYTES)
            throw new JobError(
              'bad-input',
              `${f.path} would unpack to more than ${MAX_UNZIPPED_BYTES / 1024 ** 3} GB; that is no model this studio can load`,
              'files',
            );
          return !entry.name.endsWith('/');
        },
      });
    } catch (error) {
      if (error instanceof JobError) throw error;
      throw new JobError('bad-input', `${f.path} is not a readable .zip (${error instanceof Error ? error.message : String(error)})`, 'files');
    }
    return Object.entries(entries).map(([path, bytes]) => ({ path, bytes }));
  });
}

/** The prefix under which the files hold a diffusers folder (`unet/config.json` at its root), or null when they hold none. */
function diffusersRoot(files: readonly BytesFile[]): string | null {
  const roots = files.map((f) => f.path.match(/^((?:.*\/)?)unet\/config\.json$/)?.[1]).filter((root): root is string => root !== undefined);
  if (roots.length === 0) return null;
  return roots.sort((a, b) => a.length - b.length)[0]!;
}

/** The name a person sees in the picker: the folder's or the (largest) file's name, without extension. */
function modelName(files: readonly ImportFile[]): string {
  const first = [...files].sort((a, b) => b.bytes.byteLength - a.bytes.byteLength)[0]!;
  const top = first.path.split('/').filter(Boolean);
  const base = top.length > 1 ? top[0]! : top[top.length - 1]!;
  return base.replace(/\.(safetensors|zip)$/i, '') || 'imported model';
}

function describe(files: readonly BytesFile[]): string {
  const names = files.slice(0, 4).map((f) => f.path);
  return `${names.join(', ')}${files.length > 4 ? ` and ${files.length - 4} more` : ''}`;
}
