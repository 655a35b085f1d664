/**
 * The built-in model with a subject identifier bound to its first reserved row and that row filled with seeded random
 * numbers, as a run would leave it trained: the shipped reserved rows are untrained and could hide a wrong mapping.
 */
import { NoiseGenerator } from '../../diffusion/random';
import type { ModelFolder } from '../../model/folder';
import type { Float32Tensor } from '../../model/safetensors';
import { ClipTokenizer } from '../../text/clipTokenizer';
import type { CompactVocabulary } from '../../text/compactVocabulary';

const TOKEN_TABLE = 'text_model.embeddings.token_embedding.weight';

export function withTrainedIdentifier(folder: ModelFolder, vocabulary: CompactVocabulary, identifier: string, seed: number) {
  const bound = vocabulary.withIdentifier(identifier, ClipTokenizer.shared());
  const row = bound.identifierRow(identifier)!;
  const tensors = new Map(folder.textEncoder.weights.kind === 'weights' ? folder.textEncoder.weights.tensors : []);
  const table = tensors.get(TOKEN_TABLE)!;
  const dim = table.shape[1]!;
  const data = table.data.slice();
  const embedding = new NoiseGenerator(seed).randn(dim);
  data.set(embedding, row * dim);
  tensors.set(TOKEN_TABLE, { shape: table.shape, data } satisfies Float32Tensor);
  const trained: ModelFolder = { ...folder, textEncoder: { ...folder.textEncoder, weights: { kind: 'weights', tensors } } };
  return { folder: trained, vocabulary: bound, row, embedding };
}
