/**
 * DreamBooth training settings: the presets, their JSON Schema and the check every run goes through.
 * Imports no model code (the page uses it for the Train form; the worker re-checks what arrives).
 *
 * Presets follow the published recipes (diffusers' train_dreambooth(_lora).py, the DreamBooth paper):
 * prior_loss_weight 1, 100–200 class images, 400–800 steps, LoRA learning rates 1e-4…5e-4, text-encoder
 * training for faces. The built-in model is tiny and 64 px, so step counts and class images are scaled down
 * where a CPU run would otherwise take an hour; a person can raise any of them.
 */
import type { SamplerName } from '../diffusion/schedulerConfig';
import { JobError } from '../protocol/jobs';
import { describeSchemaErrors } from '../validation/schemaMessages';
import { validateTrainSettings } from '../validation/validators.generated.js';

/** The schema's limits also bound the page's forms (e.g. the Class priors form's image count). */
export { TRAIN_SETTINGS_SCHEMA } from './trainSettingsSchema';

export type LearningRateSchedule = 'constant' | 'warmup' | 'cosine';
/** What the fine-tuning changes: LoRA adapters on the UNet's attention projections, or every UNet weight. */
export type UnetTraining = 'lora' | 'full';
/** The text encoder: frozen, only the identifier's embedding row(s), or every weight. */
export type TextEncoderTraining = 'frozen' | 'identifier' | 'full';

export interface TrainSettings {
  /** Optimizer steps (each may accumulate several micro-batches). */
  steps: number;
  learningRate: number;
  schedule: LearningRateSchedule;
  /** Linear warm-up steps ('warmup' and 'cosine'). */
  warmupSteps: number;
  /** Subject photos per micro-batch; with prior preservation as many class images join each one. */
  batchSize: number;
  /** Micro-batches whose gradients are averaged into one optimizer step. */
  gradientAccumulation: number;
  /** λ in MSE(instance) + λ·MSE(prior); 0 turns prior preservation (and class images) off. */
  priorLossWeight: number;
  /** Class images to generate (or bring) for prior preservation. */
  classImages: number;
  unet: UnetTraining;
  loraRank: number;
  loraAlpha: number;
  textEncoder: TextEncoderTraining;
  /** Also train on mirror images of the photos (not for subjects with writing or asymmetric marks). */
  flip: boolean;
  /** Global gradient-norm clipping. */
  maxGradNorm: number;
  weightDecay: number;
  /** Seeds data order, timesteps and noise: the same settings and data give the same weights. */
  seed: number;
  /** Save a checkpoint every this many steps (and always at the end). */
  checkpointEvery: number;
  /** Checkpoints kept per subject; older ones are deleted when a new one is saved. */
  keepCheckpoints: number;
  /** Render validation samples every this many steps (0: never). */
  validationEvery: number;
  /** How class images and validation samples are made. */
  sampler: SamplerName;
  samplingSteps: number;
  guidanceScale: number;
}

export type PresetId = 'quick' | 'object' | 'pet';

export interface Preset {
  id: PresetId;
  title: string;
  /** One sentence on when to pick it. */
  description: string;
  settings: TrainSettings;
}

const COMMON: TrainSettings = {
  steps: 400,
  learningRate: 1e-4,
  schedule: 'constant',
  warmupSteps: 0,
  batchSize: 1,
  gradientAccumulation: 1,
  priorLossWeight: 1,
  classImages: 100,
  unet: 'lora',
  loraRank: 8,
  loraAlpha: 8,
  textEncoder: 'frozen',
  flip: false,
  maxGradNorm: 1,
  weightDecay: 1e-2,
  seed: 0,
  checkpointEvery: 50,
  keepCheckpoints: 3,
  validationEvery: 100,
  sampler: 'dpmpp_2m',
  samplingSteps: 20,
  guidanceScale: 7.5,
};

export const PRESETS: readonly Preset[] = [
  {
    id: 'quick',
    title: 'Quick look',
    description: 'A few minutes on a laptop CPU: enough to see whether the photos work, not a finished model.',
    settings: { ...COMMON, steps: 100, learningRate: 5e-4, classImages: 16, loraRank: 4, loraAlpha: 4, checkpointEvery: 25, validationEvery: 50 },
  },
  {
    id: 'object',
    title: 'Object',
    description: 'Mugs, toys, shoes: LoRA on the UNet with prior preservation, as diffusers’ LoRA DreamBooth recipe.',
    settings: { ...COMMON, steps: 400, learningRate: 2e-4, classImages: 100, flip: true },
  },
  {
    id: 'pet',
    title: 'Pet',
    description: 'Dogs and cats: longer, with the identifier’s embedding trained too, which faces need.',
    settings: { ...COMMON, steps: 600, learningRate: 1e-4, classImages: 150, loraRank: 16, loraAlpha: 16, textEncoder: 'identifier' },
  },
];

export const DEFAULT_PRESET: PresetId = 'object';

export function presetSettings(id: PresetId): TrainSettings {
  return { ...PRESETS.find((p) => p.id === id)!.settings };
}

/**
 * Checks training settings (from the form, a saved checkpoint or the wire).
 * @throws JobError 'bad-input' naming the exact field, e.g. `/loraRank must be ≤ 128`.
 */
export function checkTrainSettings(value: unknown, at = ''): TrainSettings {
  if (!validateTrainSettings(value)) {
    const [issue] = describeSchemaErrors(validateTrainSettings.errors);
    const field = `${at}${issue?.field ?? ''}`;
    throw new JobError('bad-input', issue ? `${at}${issue.message}` : 'the training settings are invalid', field.replace(/^\//, '') || undefined);
  }
  const s = value as TrainSettings;
  if (s.warmupSteps > s.steps)
    throw new JobError('bad-input', `${at}/warmupSteps (${s.warmupSteps}) must not exceed /steps (${s.steps})`, `${at}/warmupSteps`.slice(1));
  if (s.priorLossWeight > 0 && s.classImages === 0) {
    throw new JobError(
      'bad-input',
      `${at}/classImages must be ≥ 1 while /priorLossWeight is above 0 (set the weight to 0 to train without class images)`,
      `${at}/classImages`.slice(1),
    );
  }
  return s;
}

/** The learning rate at optimizer step `step` (0-based): constant, linear warm-up then constant, or warm-up then cosine to 0 (diffusers' get_scheduler). */
export function learningRateAt(s: Pick<TrainSettings, 'learningRate' | 'schedule' | 'warmupSteps' | 'steps'>, step: number): number {
  const warm = s.schedule === 'constant' ? 0 : s.warmupSteps;
  if (step < warm) return (s.learningRate * (step + 1)) / warm;
  if (s.schedule !== 'cosine') return s.learningRate;
  const progress = (step - warm) / Math.max(1, s.steps - warm);
  return s.learningRate * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
}
