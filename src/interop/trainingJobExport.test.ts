import { describe, expect, it } from 'vitest';
import { presetSettings, type TrainSettings } from '../dreambooth/trainSettings';
import { SCRIPT_ARGS, trainShFlags } from './testing/diffusersScriptArgs';
import { diffusersJob, trainingJobFiles } from './trainingJobExport';

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
  return { files, sh, ...trainShFlags(sh) };
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
    // The fixture's base model files have no CLIPTokenizer files: the job says diffusers cannot load it.
    expect(readme).toMatch(/model\/ has no tokenizer\/vocab\.json and merges\.txt/);
    expect(
      diffusersJob({ classNoun: 'dog', identifier: 'zoqu', settings: presetSettings('object') }, 64, {
        photos: 3,
        priors: 100,
        clipTokenizer: true,
      }).unmapped.join('\n'),
    ).not.toMatch(/identifier|loraAlpha|tokenizer/);
  });
});
