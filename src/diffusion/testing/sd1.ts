/**
 * Stable Diffusion 1.x's scheduler_config.json (a PNDMScheduler config; every sampler reads it as diffusers'
 * from_config does), and its ᾱ_t computed from the definition, independently of src/diffusion, for tests.
 */
export const SD1_SCHEDULER_CONFIG = {
  _class_name: 'PNDMScheduler',
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  clip_sample: false,
  trained_betas: null,
} as const;

/** ᾱ_t for t = 0…999: betas = linspace(√β₀, √β₁, 1000)², ᾱ_t = ∏ (1 − β_s). */
export const sd1AlphaBar: readonly number[] = (() => {
  const out: number[] = [];
  let prod = 1;
  for (let t = 0; t < 1000; t++) {
    const root = Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * t) / 999;
    prod *= 1 - root * root;
    out.push(prod);
  }
  return out;
})();
