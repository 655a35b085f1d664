/**
 * A studio checkpoint as files for other tools (src/interop/checkpointExport.ts), with what a full export needs from
 * the base model beside the weights: its scheduler config and, for a model with a compact vocabulary, that vocabulary
 * with the identifier bound to its reserved row as the studio's runs bind it — written as CLIP's tokenizer with the
 * identifier an added token (src/interop/clipVocabularyExport.ts).
 */
import type { GenerationModel } from '../generation/generationModel';
import { checkpointExport, type CheckpointExport } from '../interop/checkpointExport';
import type { LoraNaming } from '../interop/loraFile';
import { ClipTokenizer } from '../text/clipTokenizer';

export function checkpointFiles(
  file: Uint8Array,
  base: GenerationModel,
  info: { identifier: string; classNoun: string },
  naming: LoraNaming,
): Promise<CheckpointExport> {
  const vocabulary = base.vocabulary?.withIdentifier(info.identifier, ClipTokenizer.shared());
  return checkpointExport(file, base.folder, info, naming, { schedulerConfig: base.schedulerConfig, ...(vocabulary ? { vocabulary } : {}) });
}
