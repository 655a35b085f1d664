/**
 * `npm run dreambooth`'s training flags → the studio's TrainSettings: a preset, then the flags given, checked by the
 * same `checkTrainSettings` the worker runs, with its message naming the flag as well as the JSON-schema field.
 */
import { checkTrainSettings, presetSettings, type PresetId, type TrainSettings } from '../dreambooth/trainSettings';
import { JobError } from '../protocol/jobs';
import { CliError } from './cliError';

/** The settings a flag sets, by flag name (commander's camelCase key → the setting). */
export const SETTING_FLAGS = {
  steps: { flag: '--steps', setting: 'steps' },
  lr: { flag: '--lr', setting: 'learningRate' },
  loraRank: { flag: '--lora-rank', setting: 'loraRank' },
  seed: { flag: '--seed', setting: 'seed' },
  classImages: { flag: '--class-images', setting: 'classImages' },
  priorLossWeight: { flag: '--prior-loss-weight', setting: 'priorLossWeight' },
  samplingSteps: { flag: '--sampling-steps', setting: 'samplingSteps' },
  checkpointEvery: { flag: '--checkpoint-every', setting: 'checkpointEvery' },
  unet: { flag: '--unet', setting: 'unet' },
  textEncoder: { flag: '--text-encoder', setting: 'textEncoder' },
} as const satisfies Record<string, { flag: string; setting: keyof TrainSettings }>;

export type SettingFlags = { preset: PresetId } & { [K in keyof typeof SETTING_FLAGS]?: TrainSettings[(typeof SETTING_FLAGS)[K]['setting']] };

/**
 * The run's settings. The CLI renders no validation previews during training (the sample grid at the end shows the
 * result), and a LoRA rank given alone keeps the presets' alpha = rank, so the adapters' scale stays 1.
 * @throws CliError (exit 2) naming the flag and the field, e.g. `--lora-rank: /loraRank must be ≤ 128`.
 */
export function settingsFromFlags(flags: SettingFlags): TrainSettings {
  const s: Record<string, unknown> = { ...presetSettings(flags.preset), validationEvery: 0 };
  for (const [key, { setting }] of Object.entries(SETTING_FLAGS)) {
    const value = flags[key as keyof typeof SETTING_FLAGS];
    if (value !== undefined) s[setting] = value;
  }
  if (flags.loraRank !== undefined) s.loraAlpha = flags.loraRank;
  if (flags.priorLossWeight === 0 && flags.classImages === undefined) s.classImages = 0;
  try {
    return checkTrainSettings(s);
  } catch (error) {
    if (!(error instanceof JobError)) throw error;
    const setting = error.field?.split('/')[0];
    const flag = Object.values(SETTING_FLAGS).find((f) => f.setting === setting)?.flag;
    throw new CliError(`${flag ? `${flag}: ` : ''}${error.message}`, 2);
  }
}
