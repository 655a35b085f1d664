/**
 * The sampler names and the JSON Schema of diffusers' `scheduler_config.json` as the samplers read it
 * (schedulerConfig.ts applies it; compiled at build time, see scripts/schemaRegistry.ts). Imports nothing, so no
 * model code: the page may import it (batch files name samplers).
 */

/** The samplers implemented here, by the short names the app uses. */
export const SAMPLER_NAMES = ['ddim', 'euler_a', 'dpmpp_2m'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

const positiveNumber = { type: 'number', exclusiveMinimum: 0 };
const flag = { type: 'boolean' };

/** Types of every key the implemented classes read; other keys pass untouched (and are then ignored). */
export const SCHEDULER_CONFIG_SCHEMA = {
  type: 'object',
  properties: {
    _class_name: { type: 'string' },
    _use_default_values: { type: 'array', items: { type: 'string' } },
    num_train_timesteps: { type: 'integer', minimum: 2 },
    beta_start: positiveNumber,
    beta_end: positiveNumber,
    beta_schedule: { enum: ['linear', 'scaled_linear', 'squaredcos_cap_v2'] },
    trained_betas: {
      anyOf: [{ type: 'null' }, { type: 'array', items: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } }],
    },
    prediction_type: { enum: ['epsilon', 'v_prediction', 'sample'] },
    rescale_betas_zero_snr: flag,
    timestep_spacing: { enum: ['leading', 'trailing', 'linspace'] },
    steps_offset: { type: 'integer', minimum: 0 },
    clip_sample: flag,
    clip_sample_range: positiveNumber,
    set_alpha_to_one: flag,
    thresholding: flag,
    dynamic_thresholding_ratio: { type: 'number' },
    sample_max_value: { type: 'number' },
    solver_order: { enum: [1, 2, 3] },
    solver_type: { enum: ['midpoint', 'heun'] },
    algorithm_type: { enum: ['dpmsolver', 'dpmsolver++', 'sde-dpmsolver', 'sde-dpmsolver++'] },
    lower_order_final: flag,
    euler_at_final: flag,
    final_sigmas_type: { enum: ['zero', 'sigma_min'] },
    // diffusers' default is -Infinity, which ajv's number type rejects: schedulerConfig.ts checks it as unsupported instead.
    lambda_min_clipped: {},
    variance_type: { anyOf: [{ type: 'null' }, { type: 'string' }] },
    use_karras_sigmas: flag,
    use_exponential_sigmas: flag,
    use_beta_sigmas: flag,
    use_lu_lambdas: flag,
    use_flow_sigmas: flag,
  },
} as const;
