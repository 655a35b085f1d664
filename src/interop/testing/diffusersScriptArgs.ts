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
export const SCRIPT_ARGS = {
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

/** The flags of an exported train.sh (`--name=value` or `--name`, one per line of the accelerate command) and its script. */
export function trainShFlags(sh: string): { script: keyof typeof SCRIPT_ARGS; flags: Map<string, string | null> } {
  const flags = new Map([...sh.matchAll(/^ {2}--(\w+)(?:=(.*?))?(?: \\)?$/gm)].map((m) => [m[1]!, m[2] ?? null]));
  const script = /examples\/dreambooth\/(train_dreambooth(?:_lora)?\.py)/.exec(sh)![1] as keyof typeof SCRIPT_ARGS;
  return { script, flags };
}
