/** Samplers, noise schedules, seeded noise and guidance for Stable-Diffusion-shaped models. */
export { createScheduler, type CreateSchedulerOptions } from './createScheduler';
export { DdimScheduler } from './ddim';
export { DpmSolverMultistepScheduler } from './dpmSolverMultistep';
export { EulerAncestralScheduler } from './eulerAncestral';
export { buildGuidedInputs, combineGuidedOutput, usesGuidance, type GuidedModelInputs } from './guidance';
export { buildNoiseSchedule, type NoiseSchedule } from './noiseSchedule';
export { MAX_SEED, NoiseGenerator, randnForBatch } from './random';
export {
  applyCoefficients,
  COEFFICIENT_ORDER,
  NonlinearStepError,
  type Scheduler,
  type StepCoefficients,
  type StepInputs,
  type StepOptions,
  type StepResult,
} from './scheduler';
export {
  parseSchedulerConfigJson,
  resolveNoiseScheduleConfig,
  resolveSchedulerConfig,
  SAMPLER_CLASS_NAMES,
  SAMPLER_NAMES,
  SchedulerConfigError,
  type NoiseScheduleConfig,
  type SamplerName,
  type SchedulerConfig,
} from './schedulerConfig';
export { addNoise, sampleTrainingTimesteps } from './trainingNoise';
