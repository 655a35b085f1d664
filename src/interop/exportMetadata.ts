/**
 * What every exported file records about where it came from, as safetensors `__metadata__` entries (which must be
 * strings): the base model's hash, the identifier and class, the steps, the full settings (JSON) and the studio's
 * version. Other tools ignore keys they do not know; the studio reads them back on import.
 */
import { version } from '../../package.json';
import type { TrainSettings } from '../dreambooth/trainSettings';
import { InteropError } from './interopError';

export const STUDIO_VERSION: string = version;

export interface StudioExportMetadata {
  /** {@link baseModelHash} of the model the weights were trained on. */
  baseModel: string;
  identifier: string;
  classNoun: string;
  steps: number;
  settings: TrainSettings;
  studioVersion: string;
}

/** Metadata key of each field. */
export const STUDIO_KEYS = {
  baseModel: 'studio_base_model_sha256',
  identifier: 'studio_identifier',
  classNoun: 'studio_class_noun',
  steps: 'studio_steps',
  settings: 'studio_settings',
  studioVersion: 'studio_version',
} as const satisfies Record<keyof StudioExportMetadata, string>;

export function studioMetadataStrings(meta: StudioExportMetadata): Record<string, string> {
  return {
    [STUDIO_KEYS.baseModel]: meta.baseModel,
    [STUDIO_KEYS.identifier]: meta.identifier,
    [STUDIO_KEYS.classNoun]: meta.classNoun,
    [STUDIO_KEYS.steps]: String(meta.steps),
    [STUDIO_KEYS.settings]: JSON.stringify(meta.settings),
    [STUDIO_KEYS.studioVersion]: meta.studioVersion,
  };
}

/** The studio fields a file records (none for files other tools wrote). @throws InteropError on a malformed one. */
export function readStudioMetadata(metadata: Readonly<Record<string, string>>): Partial<StudioExportMetadata> {
  const out: Partial<StudioExportMetadata> = {};
  const at = (key: string) => `__metadata__.${key}`;
  const text = (k: 'baseModel' | 'identifier' | 'classNoun' | 'studioVersion') => {
    const v = metadata[STUDIO_KEYS[k]];
    if (v !== undefined) out[k] = v;
  };
  text('baseModel');
  text('identifier');
  text('classNoun');
  text('studioVersion');
  const steps = metadata[STUDIO_KEYS.steps];
  if (steps !== undefined) {
    const n = Number(steps);
    if (!/^\d+$/.test(steps) || !Number.isSafeInteger(n)) throw new InteropError(at(STUDIO_KEYS.steps), `${JSON.stringify(steps)} is not a step count`);
    out.steps = n;
  }
  const settings = metadata[STUDIO_KEYS.settings];
  if (settings !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(settings);
    } catch (e) {
      throw new InteropError(at(STUDIO_KEYS.settings), `is not valid JSON (${(e as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InteropError(at(STUDIO_KEYS.settings), 'is not a JSON object');
    out.settings = parsed as TrainSettings;
  }
  return out;
}
