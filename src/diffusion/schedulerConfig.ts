import { validateSchedulerConfig } from '../validation/validators.generated.js';
import { describeSchemaErrors, type FieldIssue } from '../validation/schemaMessages';
import { SAMPLER_NAMES, type SamplerName } from './schedulerConfigSchema';

/**
 * Reading diffusers' `scheduler_config.json`. The rules follow diffusers' `from_config`: a class
 * reads only its own keys and fills the ones that are missing with its own defaults (so an SD 1.x
 * PNDM config can drive any sampler), keys named in `_use_default_values` count as missing, and
 * keys the class does not read are ignored and listed, not rejected. What is rejected, by field
 * name: values of the wrong type, and values asking for a feature these samplers do not implement.
 */

export { SAMPLER_NAMES, type SamplerName } from './schedulerConfigSchema';

/** diffusers class implemented by each sampler. */
export const SAMPLER_CLASS_NAMES: Readonly<Record<SamplerName, string>> = {
  ddim: 'DDIMScheduler',
  euler_a: 'EulerAncestralDiscreteScheduler',
  dpmpp_2m: 'DPMSolverMultistepScheduler',
};

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';
export type PredictionType = 'epsilon' | 'v_prediction';

/** The keys that define the forward (noising) process; enough for training. */
export interface NoiseScheduleConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  trained_betas: number[] | null;
  prediction_type: PredictionType;
}

/** Everything the samplers read, resolved with the defaults of the chosen sampler's diffusers class. */
export interface SchedulerConfig extends NoiseScheduleConfig {
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
  /** DDIM: clamp the predicted x0 to ±clip_sample_range. */
  clip_sample: boolean;
  clip_sample_range: number;
  /** DDIM: alpha-bar used after the last step (1, or the value at t=0). */
  set_alpha_to_one: boolean;
  /** DPM-Solver++: 1 (DDIM-like) or 2 (2M). */
  solver_order: 1 | 2;
  solver_type: 'midpoint' | 'heun';
  lower_order_final: boolean;
  euler_at_final: boolean;
  final_sigmas_type: 'zero' | 'sigma_min';
}

/** A config that cannot be used, with every problem named by its field. */
export class SchedulerConfigError extends Error {
  readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[]) {
    super(`scheduler_config.json: ${issues.map((i) => i.message).join('; ')}`);
    this.name = 'SchedulerConfigError';
    this.issues = issues;
  }
}

const NOISE_SCHEDULE_DEFAULTS: NoiseScheduleConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
};

const SAMPLER_DEFAULTS: SchedulerConfig = {
  ...NOISE_SCHEDULE_DEFAULTS,
  timestep_spacing: 'leading',
  steps_offset: 0,
  clip_sample: true,
  clip_sample_range: 1,
  set_alpha_to_one: true,
  solver_order: 2,
  solver_type: 'midpoint',
  lower_order_final: true,
  euler_at_final: false,
  final_sigmas_type: 'zero',
};

/** Defaults that differ between the diffusers classes. */
const CLASS_DEFAULTS: Record<SamplerName, Partial<SchedulerConfig>> = {
  ddim: { timestep_spacing: 'leading' },
  euler_a: { timestep_spacing: 'linspace' },
  dpmpp_2m: { timestep_spacing: 'linspace' },
};

const NOISE_KEYS = ['num_train_timesteps', 'beta_start', 'beta_end', 'beta_schedule', 'trained_betas', 'prediction_type', 'rescale_betas_zero_snr'];

/** Keys each diffusers class reads (from their `__init__` signatures). */
const CLASS_KEYS: Record<SamplerName | 'noise', readonly string[]> = {
  noise: NOISE_KEYS,
  ddim: [
    ...NOISE_KEYS,
    'timestep_spacing',
    'steps_offset',
    'clip_sample',
    'clip_sample_range',
    'set_alpha_to_one',
    'thresholding',
    'dynamic_thresholding_ratio',
    'sample_max_value',
  ],
  euler_a: [...NOISE_KEYS, 'timestep_spacing', 'steps_offset'],
  dpmpp_2m: [
    ...NOISE_KEYS,
    'timestep_spacing',
    'steps_offset',
    'solver_order',
    'solver_type',
    'algorithm_type',
    'lower_order_final',
    'euler_at_final',
    'final_sigmas_type',
    'lambda_min_clipped',
    'variance_type',
    'thresholding',
    'dynamic_thresholding_ratio',
    'sample_max_value',
    'use_karras_sigmas',
    'use_exponential_sigmas',
    'use_beta_sigmas',
    'use_lu_lambdas',
    'use_flow_sigmas',
    'flow_shift',
  ],
};

/** Values that are well-formed but ask for something not implemented here. */
const UNSUPPORTED: Record<string, { isSupported: (v: unknown) => boolean; why: string }> = {
  prediction_type: { isSupported: (v) => v !== 'sample', why: 'only "epsilon" and "v_prediction" are supported' },
  rescale_betas_zero_snr: { isSupported: (v) => v === false, why: 'zero-terminal-SNR rescaling is not supported' },
  thresholding: { isSupported: (v) => v === false, why: 'dynamic thresholding is not supported' },
  solver_order: { isSupported: (v) => v !== 3, why: 'solver_order 3 is not supported (use 1 or 2)' },
  algorithm_type: { isSupported: (v) => v === 'dpmsolver++', why: 'only "dpmsolver++" is supported' },
  // DDPM configs carry "fixed_small"; DPM-Solver only acts on the learned kinds.
  variance_type: { isSupported: (v) => v !== 'learned' && v !== 'learned_range', why: 'learned variance is not supported' },
  lambda_min_clipped: { isSupported: (v) => v === -Infinity, why: 'only -Infinity (no lambda clipping) is supported' },
  use_karras_sigmas: { isSupported: (v) => v === false, why: 'Karras sigmas are not supported' },
  use_exponential_sigmas: { isSupported: (v) => v === false, why: 'exponential sigmas are not supported' },
  use_beta_sigmas: { isSupported: (v) => v === false, why: 'beta sigmas are not supported' },
  use_lu_lambdas: { isSupported: (v) => v === false, why: 'Lu lambdas are not supported' },
  use_flow_sigmas: { isSupported: (v) => v === false, why: 'flow-matching sigmas are not supported' },
};

/** A config resolved for one sampler (or for training only), plus the keys that were not read. */
export interface ResolvedConfig<C> {
  config: C;
  /** Keys present in the file that the chosen class does not read (diffusers warns about these). */
  ignoredKeys: string[];
}

/**
 * Resolves a parsed `scheduler_config.json` for `sampler`. Without `sampler`, the config's own
 * `_class_name` decides; a class that is not implemented here is reported by that field.
 * @throws SchedulerConfigError naming each invalid or unsupported field.
 */
export function resolveSchedulerConfig(raw: unknown, sampler?: SamplerName): ResolvedConfig<SchedulerConfig> & { sampler: SamplerName } {
  const chosen = sampler ?? samplerForClass(asObject(raw)._class_name);
  const resolved = resolve<SchedulerConfig>(raw, CLASS_KEYS[chosen], { ...SAMPLER_DEFAULTS, ...CLASS_DEFAULTS[chosen] });
  return { ...resolved, sampler: chosen };
}

/** Resolves only the noise-schedule keys (what training's `addNoise` needs), from any scheduler class. */
export function resolveNoiseScheduleConfig(raw: unknown): ResolvedConfig<NoiseScheduleConfig> {
  return resolve<NoiseScheduleConfig>(raw, CLASS_KEYS.noise, NOISE_SCHEDULE_DEFAULTS);
}

/**
 * Parses the text of a `scheduler_config.json`. Python's json module writes `-Infinity`, `Infinity`
 * and `NaN` (DPMSolverMultistepScheduler saves `"lambda_min_clipped": -Infinity`), which JSON.parse
 * rejects; those bare tokens are accepted here, and nowhere inside strings.
 */
export function parseSchedulerConfigJson(text: string): unknown {
  const marker = '\u0000nonfinite:';
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      continue;
    }
    const token = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9));
    if (token) {
      out += JSON.stringify(marker + token[1]);
      i += token[1].length - 1;
      continue;
    }
    out += ch;
  }
  try {
    return JSON.parse(out, (_key, value: unknown) => (typeof value === 'string' && value.startsWith(marker) ? Number(value.slice(marker.length)) : value));
  } catch (e) {
    throw new SchedulerConfigError([{ field: '', message: `is not valid JSON (${(e as Error).message})` }]);
  }
}

function samplerForClass(className: unknown): SamplerName {
  const found = SAMPLER_NAMES.find((name) => SAMPLER_CLASS_NAMES[name] === className);
  if (found) return found;
  const known = SAMPLER_NAMES.map((n) => SAMPLER_CLASS_NAMES[n]).join(', ');
  throw new SchedulerConfigError([
    {
      field: '/_class_name',
      message: `/_class_name ${JSON.stringify(className ?? null)} is not a sampler implemented here (${known}); choose a sampler explicitly`,
    },
  ]);
}

function asObject(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SchedulerConfigError([{ field: '', message: 'the config must be a JSON object' }]);
  }
  return raw as Record<string, unknown>;
}

/** Type-checks, drops `_use_default_values`, keeps the class's keys and overlays them on its defaults. */
function resolve<C extends NoiseScheduleConfig>(raw: unknown, keys: readonly string[], defaults: C): ResolvedConfig<C> {
  const source = { ...asObject(raw) };
  const issues = validateSchedulerConfig(source) ? [] : describeSchemaErrors(validateSchedulerConfig.errors);
  const mistyped = new Set(issues.map((issue) => issue.field.split('/')[1]));
  for (const key of mistyped.has('_use_default_values') ? [] : ((source._use_default_values as string[] | undefined) ?? [])) {
    delete source[key];
  }
  const picked: Record<string, unknown> = {};
  const ignoredKeys: string[] = [];
  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith('_')) continue;
    if (!keys.includes(key)) {
      ignoredKeys.push(key);
      continue;
    }
    const rule = UNSUPPORTED[key];
    if (!mistyped.has(key) && rule && !rule.isSupported(value)) {
      issues.push({ field: `/${key}`, message: `/${key} = ${JSON.stringify(value) ?? String(value)}: ${rule.why}` });
    }
    picked[key] = value;
  }
  if (issues.length) throw new SchedulerConfigError(issues);
  const config = { ...defaults, ...picked } as C;
  checkSchedule(config);
  return { config, ignoredKeys };
}

function checkSchedule(config: NoiseScheduleConfig): void {
  if (config.trained_betas && config.trained_betas.length !== config.num_train_timesteps) {
    throw new SchedulerConfigError([
      {
        field: '/trained_betas',
        message: `/trained_betas has ${config.trained_betas.length} values but /num_train_timesteps is ${config.num_train_timesteps}`,
      },
    ]);
  }
  if (!config.trained_betas && config.beta_schedule !== 'squaredcos_cap_v2' && !(config.beta_end < 1)) {
    throw new SchedulerConfigError([{ field: '/beta_end', message: '/beta_end must be < 1' }]);
  }
}
