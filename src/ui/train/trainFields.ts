/** Labels, hints and controls of every TrainSettings field, in the order the Advanced settings show them. */
import { SAMPLER_OPTIONS } from '../../state/generateForm';
import type { TrainField } from '../../state/trainForm';

export type FieldControl = { kind: 'number'; decimal?: boolean } | { kind: 'select'; options: readonly { id: string; label: string }[] } | { kind: 'checkbox' };

export interface FieldSpec {
  field: TrainField;
  label: string;
  hint: string;
  control: FieldControl;
}

export interface FieldGroup {
  title: string;
  fields: FieldSpec[];
}

const number = (decimal = false): FieldControl => ({ kind: 'number', decimal });

export const TRAIN_FIELD_GROUPS: readonly FieldGroup[] = [
  {
    title: 'Length and learning rate',
    fields: [
      { field: 'steps', label: 'Steps', hint: 'Optimizer steps. Recipes: 400–800; the Quick look preset uses 100.', control: number() },
      { field: 'learningRate', label: 'Learning rate', hint: 'LoRA: 1e-4 … 5e-4; full fine-tuning: about 5e-6.', control: number(true) },
      {
        field: 'schedule',
        label: 'Learning-rate schedule',
        hint: 'Warm-up ramps the rate up over the warm-up steps; cosine also lowers it to 0 by the end.',
        control: {
          kind: 'select',
          options: [
            { id: 'constant', label: 'Constant' },
            { id: 'warmup', label: 'Warm-up, then constant' },
            { id: 'cosine', label: 'Warm-up, then cosine' },
          ],
        },
      },
      { field: 'warmupSteps', label: 'Warm-up steps', hint: 'Used by the warm-up and cosine schedules; at most the steps.', control: number() },
      { field: 'batchSize', label: 'Batch size', hint: 'Your photos per micro-batch (as many class images join each).', control: number() },
      {
        field: 'gradientAccumulation',
        label: 'Gradient accumulation',
        hint: 'Micro-batches averaged into one step: a larger batch without more memory.',
        control: number(),
      },
    ],
  },
  {
    title: 'Prior preservation',
    fields: [
      {
        field: 'priorLossWeight',
        label: 'Prior loss weight',
        hint: 'λ in loss = instance + λ·prior. 1 in the recipes; 0 trains without class images.',
        control: number(true),
      },
      { field: 'classImages', label: 'Class images', hint: 'How many the Class priors step makes by default. Recipes: 100–200.', control: number() },
    ],
  },
  {
    title: 'What is trained',
    fields: [
      {
        field: 'unet',
        label: 'UNet',
        hint: 'LoRA trains small adapters on the attention layers: small checkpoints, less forgetting.',
        control: {
          kind: 'select',
          options: [
            { id: 'lora', label: 'LoRA adapters' },
            { id: 'full', label: 'Every weight' },
          ],
        },
      },
      { field: 'loraRank', label: 'LoRA rank', hint: 'Adapter size: 4–16 is typical; higher learns more detail, and overfits sooner.', control: number() },
      { field: 'loraAlpha', label: 'LoRA alpha', hint: 'Scales the adapters (alpha / rank); usually equal to the rank.', control: number(true) },
      {
        field: 'textEncoder',
        label: 'Text encoder',
        hint: 'Training the identifier’s embedding helps faces (pets, people).',
        control: {
          kind: 'select',
          options: [
            { id: 'frozen', label: 'Frozen' },
            { id: 'identifier', label: 'Identifier embedding only' },
            { id: 'full', label: 'Every weight' },
          ],
        },
      },
      { field: 'flip', label: 'Also train on mirror images', hint: 'Not for subjects with writing or one-sided marks.', control: { kind: 'checkbox' } },
    ],
  },
  {
    title: 'Optimizer',
    fields: [
      { field: 'maxGradNorm', label: 'Gradient clipping (max norm)', hint: 'Caps the size of one step’s update. 1 is usual.', control: number(true) },
      { field: 'weightDecay', label: 'Weight decay', hint: 'AdamW decay; 0.01 is usual.', control: number(true) },
      { field: 'seed', label: 'Seed', hint: 'Same settings, photos and seed give the same weights.', control: number() },
    ],
  },
  {
    title: 'Checkpoints and previews',
    fields: [
      { field: 'checkpointEvery', label: 'Checkpoint every (steps)', hint: 'Pause, a crash or a closed tab loses at most this many steps.', control: number() },
      { field: 'keepCheckpoints', label: 'Checkpoints kept', hint: 'Older ones are deleted as new ones are saved. Fewer saves space.', control: number() },
      { field: 'validationEvery', label: 'Preview samples every (steps)', hint: '0: never. Each preview costs about one image per prompt.', control: number() },
      {
        field: 'sampler',
        label: 'Sampler',
        hint: 'For preview samples (and the default for class images).',
        control: { kind: 'select', options: SAMPLER_OPTIONS },
      },
      { field: 'samplingSteps', label: 'Sampling steps', hint: 'For preview samples and class images.', control: number() },
      { field: 'guidanceScale', label: 'Guidance scale', hint: 'For preview samples and class images. 7.5 is usual.', control: number(true) },
    ],
  },
];
