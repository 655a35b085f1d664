import { describe, expect, it } from 'vitest';
import { presetSettings, type TrainSettings } from '../dreambooth/trainSettings';
import { diffusersJob, trainingJobFiles } from './trainingJobExport';

/**
 * Every argument `parse_args` declares in diffusers' examples/dreambooth/train_dreambooth_lora.py and
 * examples/dreambooth/train_dreambooth.py (huggingface/diffusers at 000280f56a6a81e355313e77ec831575ad571d8b),
 * copied from their `parser.add_argument("--…")` calls.
 */
const COMMON_ARGS = [
  'pretrained_model_name_or_path',
  'revision',
  'variant',
  'tokenizer_name',
  'instance_data_dir',
  'class_data_dir',
  'instance_prompt',
  'class_prompt',
  'validation_prompt',
  'num_validation_images',
  'with_prior_preservation',
  'prior_loss_weight',
  'num_class_images',
  'output_dir',
  'seed',
  'resolution',
  'center_crop',
  'train_text_encoder',
  'train_batch_size',
  'sample_batch_size',
  'num_train_epochs',
  'max_train_steps',
  'checkpointing_steps',
  'checkpoints_total_limit',
  'resume_from_checkpoint',
  'gradient_accumulation_steps',
  'gradient_checkpointing',
  'learning_rate',
  'scale_lr',
  'lr_scheduler',
  'lr_warmup_steps',
  'lr_num_cycles',
  'lr_power',
  'dataloader_num_workers',
  'use_8bit_adam',
  'adam_beta1',
  'adam_beta2',
  'adam_weight_decay',
  'adam_epsilon',
  'max_grad_norm',
  'push_to_hub',
  'hub_token',
  'hub_model_id',
  'logging_dir',
  'allow_tf32',
  'report_to',
  'mixed_precision',
  'prior_generation_precision',
  'local_rank',
  'enable_xformers_memory_efficient_attention',
  'pre_compute_text_embeddings',
  'tokenizer_max_length',
  'text_encoder_use_attention_mask',
  'validation_images',
  'class_labels_conditioning',
];
const SCRIPT_ARGS = {
  'train_dreambooth_lora.py': new Set([...COMMON_ARGS, 'validation_epochs', 'rank']),
  'train_dreambooth.py': new Set([
    ...COMMON_ARGS,
    'validation_steps',
    'set_grads_to_none',
    'offset_noise',
    'snr_gamma',
    'skip_save_text_encoder',
    'validation_scheduler',
  ]),
};

const text = (s: string) => new TextEncoder().encode(s);
const baseModelFiles = new Map([
  ['unet/config.json', text(JSON.stringify({ sample_size: 16 }))],
  ['vae/config.json', text(JSON.stringify({ block_out_channels: [32, 64, 96] }))],
  ['model_index.json', text('{}')],
]);
const png = (n: number) => new Uint8Array([137, 80, 78, 71, n]);

function exported(settings: TrainSettings) {
  const files = trainingJobFiles({
    photos: [0, 1, 2].map((i) => ({ name: `photo-${i}.png`, bytes: png(i) })),
    priors: [0, 1].map((i) => ({ name: `class-${i}.png`, bytes: png(10 + i) })),
    classNoun: 'dog',
    identifier: 'zoqu',
    settings,
    baseModelFiles,
  });
  const sh = new TextDecoder().decode(files.get('train.sh'));
  // `--name=value` or `--name` per line of the accelerate command.
  const flags = new Map([...sh.matchAll(/^ {2}--(\w+)(?:=(.*?))?(?: \\)?$/gm)].map((m) => [m[1]!, m[2] ?? null]));
  const script = /examples\/dreambooth\/(train_dreambooth(?:_lora)?\.py)/.exec(sh)![1] as keyof typeof SCRIPT_ARGS;
  return { files, sh, flags, script };
}

describe('export training job', () => {
  it('writes the photos, class images, model, train.sh and README; every train.sh flag is one train_dreambooth_lora.py declares', () => {
    const { files, flags, script, sh } = exported(presetSettings('object'));
    expect([...files.keys()].sort()).toEqual(
      [
        'README.md',
        'class_images/class-0.png',
        'class_images/class-1.png',
        'instance_images/photo-0.png',
        'instance_images/photo-1.png',
        'instance_images/photo-2.png',
        'model/model_index.json',
        'model/unet/config.json',
        'model/vae/config.json',
        'train.sh',
      ].sort(),
    );
    expect(files.get('instance_images/photo-1.png')).toEqual(png(1));
    expect(script).toBe('train_dreambooth_lora.py');
    expect(sh).toMatch(/^#!\/usr\/bin\/env bash\n/);
    expect(sh).toContain('accelerate launch "$DIFFUSERS/examples/dreambooth/train_dreambooth_lora.py"');
    expect(flags.size).toBeGreaterThan(15);
    for (const flag of flags.keys()) expect(SCRIPT_ARGS[script], `--${flag}`).toContain(flag);
  });

  it('maps each setting to its flag and value', () => {
    const s: TrainSettings = {
      ...presetSettings('object'),
      steps: 321,
      learningRate: 2e-4,
      schedule: 'cosine',
      warmupSteps: 20,
      batchSize: 2,
      gradientAccumulation: 3,
      priorLossWeight: 0.5,
      classImages: 2,
      loraRank: 16,
      loraAlpha: 16,
      maxGradNorm: 0.7,
      weightDecay: 0.02,
      seed: 42,
      checkpointEvery: 40,
      keepCheckpoints: 4,
      validationEvery: 6,
      textEncoder: 'full',
    };
    const { flags } = exported(s);
    expect(Object.fromEntries(flags)).toEqual({
      pretrained_model_name_or_path: 'model',
      instance_data_dir: 'instance_images',
      instance_prompt: "'a photo of zoqu dog'",
      output_dir: 'output',
      resolution: '64',
      center_crop: null,
      max_train_steps: '321',
      learning_rate: '0.0002',
      lr_scheduler: 'cosine',
      lr_warmup_steps: '20',
      train_batch_size: '2',
      gradient_accumulation_steps: '3',
      with_prior_preservation: null,
      prior_loss_weight: '0.5',
      class_data_dir: 'class_images',
      class_prompt: "'a photo of dog'",
      num_class_images: '2',
      rank: '16',
      train_text_encoder: null,
      max_grad_norm: '0.7',
      adam_weight_decay: '0.02',
      seed: '42',
      mixed_precision: 'no',
      checkpointing_steps: '40',
      checkpoints_total_limit: '4',
      validation_prompt: "'a photo of zoqu dog on the beach'",
      // 3 photos, 2 class images, batch 2, accumulation 3: one step an epoch, so every 6 steps is every 6 epochs.
      validation_epochs: '6',
    });
    expect(Object.fromEntries(exported({ ...s, schedule: 'warmup' }).flags)).toMatchObject({ lr_scheduler: 'constant_with_warmup', lr_warmup_steps: '20' });
    expect(Object.fromEntries(exported({ ...s, schedule: 'constant' }).flags)).toMatchObject({ lr_scheduler: 'constant', lr_warmup_steps: '0' });
  });

  it('without prior preservation ships no class images and no prior flags', () => {
    const { files, flags } = exported({ ...presetSettings('quick'), priorLossWeight: 0, classImages: 0 });
    expect([...files.keys()].some((p) => p.startsWith('class_images/'))).toBe(false);
    for (const f of ['with_prior_preservation', 'prior_loss_weight', 'class_data_dir', 'class_prompt', 'num_class_images']) expect(flags.has(f)).toBe(false);
  });

  it('full UNet fine-tuning runs train_dreambooth.py, whose arguments it uses (no --rank)', () => {
    const { flags, script } = exported({ ...presetSettings('object'), unet: 'full' });
    expect(script).toBe('train_dreambooth.py');
    expect(flags.has('rank')).toBe(false);
    expect(flags.get('validation_steps')).toBe('100');
    for (const flag of flags.keys()) expect(SCRIPT_ARGS[script], `--${flag}`).toContain(flag);
  });

  it('says in train.sh and the README which settings have no flag', () => {
    const { files, sh } = exported({ ...presetSettings('pet'), flip: true, loraAlpha: 8 });
    const readme = new TextDecoder().decode(files.get('README.md'));
    for (const doc of [sh, readme]) {
      expect(doc).toMatch(/textEncoder "identifier"/);
      expect(doc).toMatch(/flip: the scripts have no mirror-image/);
      expect(doc).toMatch(/loraAlpha 8/);
    }
    expect(readme).toContain('| learningRate | `--learning_rate=0.0001` |');
    expect(readme).toContain('pytorch_lora_weights.safetensors');
    expect(
      diffusersJob({ classNoun: 'dog', identifier: 'zoqu', settings: presetSettings('object') }, 64, { photos: 3, priors: 100 }).unmapped.join('\n'),
    ).not.toMatch(/identifier|loraAlpha/);
  });
});
