import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createScheduler } from './createScheduler';
import { DdimScheduler } from './ddim';
import { DpmSolverMultistepScheduler } from './dpmSolverMultistep';
import { EulerAncestralScheduler } from './eulerAncestral';
import { parseSchedulerConfigJson, resolveNoiseScheduleConfig, SchedulerConfigError } from './schedulerConfig';

const fixtureText = readFileSync('fixtures/diffusers-tiny-sd/scheduler/scheduler_config.json', 'utf8');

// The scheduler_config.json shipped with Stable Diffusion 1.x checkpoints.
const sd1Pndm = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: '0.6.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
};

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof SchedulerConfigError) return e.issues.map((i) => i.field);
    throw e;
  }
  throw new Error('expected a SchedulerConfigError');
}

describe('createScheduler', () => {
  it('picks the class named by _class_name', () => {
    const make = (name: string) => createScheduler({ ...sd1Pndm, _class_name: name }).scheduler;
    expect(make('DDIMScheduler')).toBeInstanceOf(DdimScheduler);
    expect(make('EulerAncestralDiscreteScheduler')).toBeInstanceOf(EulerAncestralScheduler);
    expect(make('DPMSolverMultistepScheduler')).toBeInstanceOf(DpmSolverMultistepScheduler);
  });

  it("reads SD 1.x's PNDM config for any chosen sampler, keeping its schedule and spacing", () => {
    const { scheduler, ignoredKeys } = createScheduler(sd1Pndm, { sampler: 'ddim' });
    expect(scheduler.config.beta_schedule).toBe('scaled_linear');
    expect(scheduler.config.set_alpha_to_one).toBe(false);
    expect(ignoredKeys).toEqual(['skip_prk_steps']);
    scheduler.setTimesteps(50);
    expect(scheduler.timesteps[0]).toBe(981);
    const dpm = createScheduler(sd1Pndm, { sampler: 'dpmpp_2m' });
    expect(dpm.ignoredKeys.sort()).toEqual(['clip_sample', 'set_alpha_to_one', 'skip_prk_steps']);
    expect(dpm.scheduler.config.timestep_spacing).toBe('linspace'); // the PNDM config does not set it: DPM's own default
  });

  it('needs an explicit sampler for a class it does not implement, naming /_class_name', () => {
    const config = JSON.parse(fixtureText) as unknown; // diffusers' tiny test pipeline: a DDPMScheduler config
    expect(issuesOf(() => createScheduler(config))).toEqual(['/_class_name']);
    const { scheduler } = createScheduler(config, { sampler: 'euler_a' });
    expect(scheduler.config.steps_offset).toBe(0);
    expect(scheduler.config.timestep_spacing).toBe('leading');
  });

  it('reports wrong types and unsupported values by exact field name, all at once', () => {
    expect(
      issuesOf(() => createScheduler({ ...sd1Pndm, steps_offset: -1, beta_schedule: 'cubic', num_train_timesteps: '1000' }, { sampler: 'ddim' })).sort(),
    ).toEqual(['/beta_schedule', '/num_train_timesteps', '/steps_offset']);
    const dpm = { ...sd1Pndm, _class_name: 'DPMSolverMultistepScheduler', algorithm_type: 'sde-dpmsolver++', solver_order: 3, use_karras_sigmas: true };
    expect(issuesOf(() => createScheduler(dpm)).sort()).toEqual(['/algorithm_type', '/solver_order', '/use_karras_sigmas']);
    expect(issuesOf(() => createScheduler({ ...sd1Pndm, thresholding: true }, { sampler: 'ddim' }))).toEqual(['/thresholding']);
    expect(issuesOf(() => createScheduler({ ...sd1Pndm, trained_betas: [0.1, 0.2] }, { sampler: 'ddim' }))).toEqual(['/trained_betas']);
    expect(() => createScheduler({ ...sd1Pndm, prediction_type: 'sample' }, { sampler: 'euler_a' })).toThrow(/\/prediction_type/);
    expect(issuesOf(() => createScheduler('not an object', { sampler: 'ddim' }))).toEqual(['']);
  });

  it('ignores keys the chosen class does not read, as diffusers does (thresholding means nothing to Euler)', () => {
    const { ignoredKeys } = createScheduler({ ...sd1Pndm, thresholding: true, some_future_key: 1 }, { sampler: 'euler_a' });
    expect(ignoredKeys).toContain('thresholding');
    expect(ignoredKeys).toContain('some_future_key');
  });

  it('treats keys listed in _use_default_values as missing', () => {
    const config = { ...sd1Pndm, _class_name: 'DDIMScheduler', timestep_spacing: 'leading', _use_default_values: ['timestep_spacing'] };
    expect(createScheduler(config, { sampler: 'euler_a' }).scheduler.config.timestep_spacing).toBe('linspace');
  });

  it('takes eta for DDIM only', () => {
    expect((createScheduler(sd1Pndm, { sampler: 'ddim', eta: 0.5 }).scheduler as DdimScheduler).eta).toBe(0.5);
    expect(() => createScheduler(sd1Pndm, { sampler: 'euler_a', eta: 0.5 })).toThrow(/eta/);
  });
});

describe('parseSchedulerConfigJson', () => {
  it("accepts Python's -Infinity (DPM-Solver saves lambda_min_clipped that way) but not inside strings", () => {
    const text = '{"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity, "note": "x: -Infinity, \\"NaN\\""}';
    const parsed = parseSchedulerConfigJson(text) as Record<string, unknown>;
    expect(parsed.lambda_min_clipped).toBe(-Infinity);
    expect(parsed.note).toBe('x: -Infinity, "NaN"');
    expect(createScheduler(parsed).scheduler).toBeInstanceOf(DpmSolverMultistepScheduler);
    expect(issuesOf(() => createScheduler({ ...parsed, lambda_min_clipped: -5.1 }))).toEqual(['/lambda_min_clipped']);
  });

  it('reports broken JSON', () => {
    expect(() => parseSchedulerConfigJson('{"beta_start": ')).toThrow(SchedulerConfigError);
  });
});

describe('resolveNoiseScheduleConfig', () => {
  it('reads the training schedule from the fixture DDPM config and ignores sampling keys', () => {
    const { config, ignoredKeys } = resolveNoiseScheduleConfig(JSON.parse(fixtureText));
    expect(config).toMatchObject({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, num_train_timesteps: 1000 });
    expect(ignoredKeys).toContain('variance_type');
  });
});
