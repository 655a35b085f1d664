import { DdimScheduler } from './ddim';
import { DpmSolverMultistepScheduler } from './dpmSolverMultistep';
import { EulerAncestralScheduler } from './eulerAncestral';
import type { Scheduler } from './scheduler';
import { resolveSchedulerConfig, type SamplerName } from './schedulerConfig';

export interface CreateSchedulerOptions {
  /** Sampler to build; defaults to the one named by the config's `_class_name`. */
  sampler?: SamplerName;
  /** DDIM's η (0 = deterministic); only DDIM accepts it. */
  eta?: number;
}

/**
 * Builds a sampler from a parsed diffusers `scheduler_config.json` — like diffusers'
 * `XScheduler.from_config(pipe.scheduler.config)`, so the noise schedule of the model's own
 * config is kept whichever sampler is chosen.
 * @returns the scheduler and the config keys it ignored.
 * @throws SchedulerConfigError naming each invalid or unsupported field.
 */
export function createScheduler(rawConfig: unknown, options: CreateSchedulerOptions = {}): { scheduler: Scheduler; ignoredKeys: string[] } {
  const { config, ignoredKeys, sampler } = resolveSchedulerConfig(rawConfig, options.sampler);
  if (options.eta !== undefined && options.eta !== 0 && sampler !== 'ddim') {
    throw new RangeError(`eta is a DDIM setting; sampler "${sampler}" does not take it`);
  }
  const scheduler =
    sampler === 'ddim'
      ? new DdimScheduler(config, { eta: options.eta })
      : sampler === 'euler_a'
        ? new EulerAncestralScheduler(config)
        : new DpmSolverMultistepScheduler(config);
  return { scheduler, ignoredKeys };
}
