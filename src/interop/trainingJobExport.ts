/**
 * "Export training job": the studio's DreamBooth run as a folder that diffusers' own example scripts train on a GPU
 * machine — the subject photos (instance_images/), the class images (class_images/), the base model in diffusers
 * layout (model/), a train.sh running examples/dreambooth/train_dreambooth_lora.py (or train_dreambooth.py for full
 * UNet fine-tuning) through `accelerate launch` with every studio setting mapped to its flag, and a README.md.
 *
 * Pure (no Node or DOM APIs): the CLI (`npm run dreambooth -- --export-job DIR`) writes the map to disk, the studio's
 * "Export training job" button zips it.
 */
import type { TrainSettings } from '../dreambooth/trainSettings';
import { classPrompt, instancePrompt } from '../subjects/subject';

export interface TrainingJobInput {
  /** The subject photos as the model sees them (the studio's centre-square crops). */
  photos: readonly { name: string; bytes: Uint8Array }[];
  /** Class images for prior preservation (empty when the prior loss weight is 0). */
  priors: readonly { name: string; bytes: Uint8Array }[];
  classNoun: string;
  identifier: string;
  settings: TrainSettings;
  /** The base model in diffusers layout, by path inside the model folder (e.g. 'unet/config.json'). */
  baseModelFiles: ReadonlyMap<string, Uint8Array>;
}

export type DiffusersScript = 'train_dreambooth_lora.py' | 'train_dreambooth.py';

/** One command-line flag of the diffusers script; `value` null for a store_true flag. */
export interface DiffusersFlag {
  flag: string;
  value: string | null;
  /** The studio setting it carries, for the README's table (absent for paths and prompts). */
  from?: keyof TrainSettings;
}

export interface DiffusersJob {
  script: DiffusersScript;
  flags: DiffusersFlag[];
  /** Studio settings the script has no flag for, each with what happens instead. */
  unmapped: string[];
}

/** Folder names inside the exported job. */
export const JOB_DIRS = { instances: 'instance_images', classes: 'class_images', model: 'model', output: 'output' } as const;

/**
 * The diffusers script and flags that train what the studio's settings describe. `resolution` is the model's image
 * side (UNet sample_size × the VAE's downsampling); `counts` the images shipped (an epoch is turned into steps) and
 * whether the model has CLIPTokenizer's files.
 */
export function diffusersJob(
  o: Pick<TrainingJobInput, 'classNoun' | 'identifier' | 'settings'>,
  resolution: number,
  counts: { photos: number; priors: number; clipTokenizer: boolean },
): DiffusersJob {
  const s = o.settings;
  const lora = s.unet === 'lora';
  const flags: DiffusersFlag[] = [];
  const add = (flag: string, value: string | number | null, from?: keyof TrainSettings) =>
    flags.push({ flag, value: value === null ? null : String(value), ...(from ? { from } : {}) });
  const unmapped: string[] = [];

  add('pretrained_model_name_or_path', JOB_DIRS.model);
  add('instance_data_dir', JOB_DIRS.instances);
  add('instance_prompt', instancePrompt(o));
  add('output_dir', JOB_DIRS.output);
  add('resolution', resolution);
  // The photos are already the studio's centre-square crops at this resolution: crop the same way, not at random.
  add('center_crop', null);
  add('max_train_steps', s.steps, 'steps');
  add('learning_rate', s.learningRate, 'learningRate');
  // diffusers' get_scheduler: 'constant_with_warmup' and 'cosine' (warm-up, then half a cosine to 0) are the studio's.
  add('lr_scheduler', s.schedule === 'constant' ? 'constant' : s.schedule === 'warmup' ? 'constant_with_warmup' : 'cosine', 'schedule');
  add('lr_warmup_steps', s.schedule === 'constant' ? 0 : s.warmupSteps, 'warmupSteps');
  add('train_batch_size', s.batchSize, 'batchSize');
  add('gradient_accumulation_steps', s.gradientAccumulation, 'gradientAccumulation');
  if (s.priorLossWeight > 0) {
    add('with_prior_preservation', null, 'priorLossWeight');
    add('prior_loss_weight', s.priorLossWeight, 'priorLossWeight');
    add('class_data_dir', JOB_DIRS.classes);
    add('class_prompt', classPrompt(o.classNoun));
    add('num_class_images', s.classImages, 'classImages');
  }
  if (lora) add('rank', s.loraRank, 'loraRank');
  if (s.textEncoder === 'full') add('train_text_encoder', null, 'textEncoder');
  add('max_grad_norm', s.maxGradNorm, 'maxGradNorm');
  add('adam_weight_decay', s.weightDecay, 'weightDecay');
  add('seed', s.seed, 'seed');
  // The studio trains in float32 throughout; fp16 would change the numbers the settings were chosen for.
  add('mixed_precision', 'no');
  add('checkpointing_steps', s.checkpointEvery, 'checkpointEvery');
  add('checkpoints_total_limit', s.keepCheckpoints, 'keepCheckpoints');
  if (s.validationEvery > 0) {
    add('validation_prompt', `${instancePrompt(o)} on the beach`, 'validationEvery');
    if (lora) {
      // The LoRA script validates every N epochs; an epoch is max(photos, class images) / batch micro-batches.
      const stepsPerEpoch = Math.max(1, Math.ceil(Math.max(counts.photos, counts.priors) / s.batchSize / s.gradientAccumulation));
      add('validation_epochs', Math.max(1, Math.round(s.validationEvery / stepsPerEpoch)), 'validationEvery');
    } else {
      add('validation_steps', s.validationEvery, 'validationEvery');
    }
  }

  if (lora && s.loraAlpha !== s.loraRank) {
    unmapped.push(
      `loraAlpha ${s.loraAlpha}: train_dreambooth_lora.py sets alpha = rank (${s.loraRank}), so the adapters' scale differs from the studio's by ${s.loraRank / s.loraAlpha}×`,
    );
  }
  if (s.textEncoder === 'identifier') {
    unmapped.push('textEncoder "identifier": the scripts train the whole text encoder (--train_text_encoder) or none of it; this job leaves it frozen');
  }
  if (s.flip) unmapped.push('flip: the scripts have no mirror-image augmentation flag; add mirrored copies to instance_images/ to get it');
  if (!counts.clipTokenizer) {
    unmapped.push(
      "the base model's tokenizer: model/ has no tokenizer/vocab.json and merges.txt, so the script's CLIPTokenizer cannot load it; export the job from a diffusers folder that has them (a compact-vocabulary model gets them from diffusersFolderFiles' `vocabulary` option)",
    );
  }
  const made =
    s.priorLossWeight > 0 && counts.priors < s.classImages
      ? `the script makes the ${s.classImages - counts.priors} missing class images with its own scheduler`
      : 'no class images are made';
  unmapped.push(`sampler ${s.sampler}, ${s.samplingSteps} sampling steps, guidance ${s.guidanceScale}: ${made}; validation uses the script's own scheduler`);
  return { script: lora ? 'train_dreambooth_lora.py' : 'train_dreambooth.py', flags, unmapped };
}

/** The exported folder, by path. */
export function trainingJobFiles(o: TrainingJobInput): Map<string, Uint8Array> {
  const resolution = modelResolution(o.baseModelFiles);
  const withPriors = o.settings.priorLossWeight > 0;
  const clipTokenizer = o.baseModelFiles.has('tokenizer/vocab.json') && o.baseModelFiles.has('tokenizer/merges.txt');
  const job = diffusersJob(o, resolution, { photos: o.photos.length, priors: withPriors ? o.priors.length : 0, clipTokenizer });
  const text = (s: string) => new TextEncoder().encode(s);
  const files = new Map<string, Uint8Array>();
  for (const p of o.photos) files.set(`${JOB_DIRS.instances}/${p.name}`, p.bytes);
  if (withPriors) for (const p of o.priors) files.set(`${JOB_DIRS.classes}/${p.name}`, p.bytes);
  for (const [path, bytes] of o.baseModelFiles) files.set(`${JOB_DIRS.model}/${path}`, bytes);
  files.set('train.sh', text(trainScript(job)));
  files.set('README.md', text(readme(o, job)));
  return files;
}

/** The image side the model trains at: UNet sample_size × 2^(VAE blocks − 1), as diffusers computes it. */
export function modelResolution(files: ReadonlyMap<string, Uint8Array>): number {
  const json = (path: string) => {
    const bytes = files.get(path);
    if (!bytes) throw new Error(`the base model has no ${path}`);
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  };
  const sample = json('unet/config.json').sample_size as number;
  const blocks = (json('vae/config.json').block_out_channels as number[]).length;
  return sample * 2 ** (blocks - 1);
}

/** A shell word: single-quoted unless it is plainly safe. */
const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function trainScript(job: DiffusersJob): string {
  const lines = job.flags.map((f) => `  --${f.flag}${f.value === null ? '' : `=${shellWord(f.value)}`}`);
  return [
    '#!/usr/bin/env bash',
    `# DreamBooth training exported by DreamBooth studio: runs diffusers' examples/dreambooth/${job.script}.`,
    "# Needs a clone of diffusers (DIFFUSERS=path to it; default ./diffusers) with the example's requirements installed.",
    ...(job.unmapped.length ? ['#', '# Studio settings without a flag in the script:', ...job.unmapped.map((u) => `#   - ${u}`)] : []),
    'set -euo pipefail',
    'cd "$(dirname "$0")"',
    'DIFFUSERS="${DIFFUSERS:-diffusers}"',
    `accelerate launch "$DIFFUSERS/examples/dreambooth/${job.script}" \\`,
    lines.join(' \\\n'),
    '',
  ].join('\n');
}

function readme(o: TrainingJobInput, job: DiffusersJob): string {
  const lora = job.script === 'train_dreambooth_lora.py';
  const rows = job.flags.filter((f) => f.from).map((f) => `| ${f.from} | \`--${f.flag}${f.value === null ? '' : `=${f.value}`}\` |`);
  return `# DreamBooth training job: “${instancePrompt(o)}”

Exported by DreamBooth studio. This folder trains the same DreamBooth run with diffusers' own example script
(\`examples/dreambooth/${job.script}\`) on a machine with a CUDA GPU.

- \`${JOB_DIRS.instances}/\`: the ${o.photos.length} subject photos, already cropped to the model's square.
- \`${JOB_DIRS.classes}/\`: ${o.settings.priorLossWeight > 0 ? `the ${o.priors.length} class images (“${classPrompt(o.classNoun)}”) for prior preservation` : 'not used (the prior loss weight is 0)'}.
- \`${JOB_DIRS.model}/\`: the base model in diffusers layout.
- \`train.sh\`: the command, every setting as a flag.

## Run it

\`\`\`sh
git clone https://github.com/huggingface/diffusers
pip install -e ./diffusers -r diffusers/examples/dreambooth/requirements.txt
accelerate config default
DIFFUSERS=./diffusers bash train.sh
\`\`\`

## Bring the result back

${
  lora
    ? `The LoRA lands in \`${JOB_DIRS.output}/pytorch_lora_weights.safetensors\` (diffusers/PEFT names): import it in the studio's
Generate step, or sample with \`npm run sample -- --lora ${JOB_DIRS.output}/pytorch_lora_weights.safetensors --prompt "${instancePrompt(o)} on the beach"\`.`
    : `The fine-tuned pipeline lands in \`${JOB_DIRS.output}/\` in diffusers layout: open it as a model folder in the studio,
or sample with \`npm run sample -- --model ${JOB_DIRS.output} --prompt "${instancePrompt(o)} on the beach"\`.`
}

## Settings → flags

| Studio setting | diffusers flag |
|---|---|
${rows.join('\n')}
${job.unmapped.length ? `\nNot carried over (the script has no flag for them):\n\n${job.unmapped.map((u) => `- ${u}`).join('\n')}\n` : ''}`;
}
