/**
 * Runs DreamBooth train steps on a ProgramRuntime (WebGPU in the browser's worker, wasm in Node tests) and owns
 * everything a checkpoint must hold to continue exactly: the trainable weights and AdamW moments (on the runtime),
 * the step, the random stream (data order, timesteps, noise) and the settings and data it trained on.
 *
 * Each micro-batch is [batchSize subject latents, batchSize class latents] (priors only with priorLossWeight > 0),
 * drawn from per-epoch shuffles of each set; one timestep and one noise draw per sample; the loss weights come from
 * priorPreservationWeights. With gradient accumulation the micro-batches' gradients are summed by `accumulate` and
 * `apply` averages them into one AdamW step.
 */
import { addNoise, sampleTrainingTimesteps } from '../diffusion/trainingNoise';
import type { NoiseSchedule } from '../diffusion/noiseSchedule';
import { NoiseGenerator, type NoiseGeneratorState } from '../diffusion/random';
import type { LoraAdapter } from '../engine/lora/lora';
import { priorPreservationWeights } from '../engine/optim/loss';
import type { ParamLayout } from '../engine/optim/flatParams';
import { STATE } from '../engine/optim/trainStep';
import type { BackendReport, ExecutionProvider } from '../engine/runtime/backend';
import type { OrtFlavor } from '../engine/runtime/ort';
import { ProgramRuntime, type Feed } from '../engine/runtime/programRuntime';
import type { ModelFolder } from '../model/folder';
import { readSafetensors, parseSafetensors, writeSafetensors, type Float32Tensor } from '../model/safetensors';
import type { TrainedInputs } from '../generation/generationModel';
import { compileDreamBoothStep, trainedInputsFor, TRAIN_IO, type DreamBoothStep } from './trainGraph';
import { learningRateAt, type TrainSettings } from './trainSettings';

export interface TrainingData {
  /** Latents (× the VAE's scaling factor) of the subject photos, mirror images included when flipping; [C·h·w] each. */
  instances: readonly Float32Array[];
  /** Latents of the class images. */
  priors: readonly Float32Array[];
  /** Frozen text encoder: the prompt's last hidden state [L·D]; text encoder in the step: its token ids [L]. */
  instanceText: Float32Array | BigInt64Array;
  classText: Float32Array | BigInt64Array;
  /** Identity of the data, base model and prompts: a checkpoint continues only on the same data. */
  dataHash: string;
}

export interface TrainerOptions {
  folder: ModelFolder;
  schedule: NoiseSchedule;
  settings: TrainSettings;
  data: TrainingData;
  /** [channels, height, width] of one latent. */
  latentShape: readonly [number, number, number];
  identifierRows: readonly number[];
  ep: ExecutionProvider;
  ortFlavor?: OrtFlavor;
  threads?: number;
}

export interface StepMetrics {
  /** Optimizer steps done, this one included. */
  step: number;
  loss: number;
  instanceLoss: number;
  /** NaN without prior preservation. */
  priorLoss: number;
  gradNorm: number;
  learningRate: number;
}

/** A shuffled pass over n items, reshuffled from the run's stream when it ends. */
interface EpochCursor {
  order: number[];
  next: number;
}

interface SamplerState {
  rng: NoiseGeneratorState;
  instances: EpochCursor;
  priors: EpochCursor;
}

/** What a checkpoint file's metadata holds besides the tensors. */
export interface CheckpointMeta {
  format: 'dreambooth-studio-checkpoint';
  version: 1;
  step: number;
  settings: TrainSettings;
  dataHash: string;
  sampler: SamplerState;
  layout: ParamLayout['entries'];
  adapters: readonly LoraAdapter[];
  identifierRows: readonly number[];
}

const CHECKPOINT_KEY = 'dreambooth_studio';
const STATE_TENSORS = [STATE.params, STATE.m, STATE.v] as const;

export class DreamBoothTrainer {
  private stepsDone = 0;
  private rng: NoiseGenerator;
  private instanceCursor: EpochCursor = { order: [], next: 0 };
  private priorCursor: EpochCursor = { order: [], next: 0 };
  private readonly withPriors: boolean;
  private readonly perItem: number;

  private constructor(
    private readonly o: TrainerOptions,
    readonly runtime: ProgramRuntime,
    readonly compiled: DreamBoothStep,
  ) {
    this.rng = new NoiseGenerator(o.settings.seed);
    this.withPriors = o.settings.priorLossWeight > 0;
    this.perItem = o.latentShape[0] * o.latentShape[1] * o.latentShape[2];
  }

  static async create(o: TrainerOptions): Promise<DreamBoothTrainer> {
    const s = o.settings;
    if (o.data.instances.length === 0) throw new Error('DreamBooth needs at least one photo of the subject');
    if (s.priorLossWeight > 0 && o.data.priors.length === 0) throw new Error('prior preservation needs class images (or set priorLossWeight to 0)');
    const withPriors = s.priorLossWeight > 0;
    const batch = s.batchSize * (withPriors ? 2 : 1);
    const compiled = compileDreamBoothStep(o.folder, {
      settings: s,
      batch,
      latentHeight: o.latentShape[1],
      latentWidth: o.latentShape[2],
      identifierRows: o.identifierRows,
    });
    const c = compiled.compiled;
    const programs = c.accumulate && c.apply ? [c.accumulate, c.apply] : [c.step];
    const runtime = await ProgramRuntime.create({
      ep: o.ep,
      programs,
      state: c.initialState,
      // Validation samples read the parameters in place (GenerationPipeline.setTrainedValues).
      shared: [STATE.params],
      ...(o.ortFlavor ? { ortFlavor: o.ortFlavor } : {}),
      ...(o.threads ? { threads: o.threads } : {}),
    });
    return new DreamBoothTrainer(o, runtime, compiled);
  }

  get step(): number {
    return this.stepsDone;
  }

  get backend(): BackendReport {
    return this.runtime.backend;
  }

  get layout(): ParamLayout {
    return this.compiled.compiled.layout;
  }

  /** How sampling graphs read this run's trainable values in place (GenerationPipeline's TrainedInputs). */
  get trainedInputs(): TrainedInputs {
    return trainedInputsFor(this.o.settings, this.o.identifierRows, this.layout);
  }

  /** Trainable values (what sampling and exports need), without the optimizer moments. */
  get trainableCount(): number {
    return this.layout.size;
  }

  /** One optimizer step (gradientAccumulation micro-batches). */
  async trainStep(): Promise<StepMetrics> {
    const s = this.o.settings;
    const learningRate = learningRateAt(s, this.stepsDone);
    const hyper = { lr: learningRate, step: this.stepsDone + 1, max_grad_norm: s.maxGradNorm };
    const losses = { total: 0, instance: 0, prior: 0 };
    let gradNorm: number;
    const k = s.gradientAccumulation;
    const addLosses = (metrics: Float32Array, at: number) => {
      losses.total += metrics[0]! / k;
      const per = metrics.subarray(at);
      const n = s.batchSize;
      losses.instance += mean(per.subarray(0, n)) / k;
      if (this.withPriors) losses.prior += mean(per.subarray(n, 2 * n)) / k;
    };
    if (k === 1) {
      const { metrics } = await this.runtime.run('step', { ...this.microBatch(), ...hyper });
      addLosses(metrics!, this.compiled.perSampleMetrics.step);
      gradNorm = metrics![1]!;
    } else {
      for (let i = 0; i < k; i++) {
        const { metrics } = await this.runtime.run('accumulate', this.microBatch());
        addLosses(metrics!, this.compiled.perSampleMetrics.accumulate);
      }
      const { metrics } = await this.runtime.run('apply', { ...hyper, grad_scale: 1 / k });
      gradNorm = metrics![0]!;
    }
    if (!Number.isFinite(losses.total)) {
      throw new Error(`step ${this.stepsDone + 1}: the loss is ${losses.total}. Lower the learning rate and resume from the last checkpoint.`);
    }
    this.stepsDone++;
    return {
      step: this.stepsDone,
      loss: losses.total,
      instanceLoss: losses.instance,
      priorLoss: this.withPriors ? losses.prior : NaN,
      gradNorm,
      learningRate,
    };
  }

  /**
   * The loss on one fixed micro-batch (the same items, timesteps and noise at every call), leaving weights, moments
   * and the run's random stream as they were: how well the model fits its data now.
   */
  async fixedBatchLoss(): Promise<number> {
    const saved = { state: await this.runtime.exportState(), rng: this.rng, cursors: [this.instanceCursor, this.priorCursor] as const };
    this.rng = new NoiseGenerator((this.o.settings.seed + 0x9e37) >>> 0);
    this.instanceCursor = { order: [], next: 0 };
    this.priorCursor = { order: [], next: 0 };
    try {
      const accumulating = this.o.settings.gradientAccumulation > 1;
      const { metrics } = accumulating
        ? await this.runtime.run('accumulate', this.microBatch())
        : await this.runtime.run('step', { ...this.microBatch(), lr: 0, step: 1, max_grad_norm: this.o.settings.maxGradNorm });
      return metrics![0]!;
    } finally {
      this.runtime.importState(saved.state);
      this.rng = saved.rng;
      [this.instanceCursor, this.priorCursor] = saved.cursors;
    }
  }

  /** The checkpoint file: a safetensors of the trainable weights and moments, with the rest in its metadata. */
  async checkpoint(): Promise<{ file: Uint8Array; weightBytes: number }> {
    const state = await this.runtime.exportState([...STATE_TENSORS]);
    const tensors = new Map<string, Float32Tensor>(STATE_TENSORS.map((n) => [n, { shape: [state[n]!.length], data: state[n]! }]));
    const meta: CheckpointMeta = {
      format: 'dreambooth-studio-checkpoint',
      version: 1,
      step: this.stepsDone,
      settings: this.o.settings,
      dataHash: this.o.data.dataHash,
      sampler: { rng: this.rng.state(), instances: this.instanceCursor, priors: this.priorCursor },
      layout: this.layout.entries,
      adapters: this.compiled.adapters,
      identifierRows: this.o.identifierRows,
    };
    const file = writeSafetensors(tensors, { metadata: { format: 'pt', [CHECKPOINT_KEY]: JSON.stringify(meta) } });
    return { file, weightBytes: this.layout.size * 4 };
  }

  /**
   * Continues from a checkpoint of this very run (same settings, data and layout).
   * @throws naming what differs.
   */
  restore(file: Uint8Array): void {
    const { meta, state } = readCheckpoint(file);
    const mine = this.o.settings;
    const differs = (Object.keys(mine) as (keyof TrainSettings)[]).filter(
      (key) => key !== 'steps' && key !== 'checkpointEvery' && key !== 'keepCheckpoints' && key !== 'validationEvery' && meta.settings[key] !== mine[key],
    );
    if (differs.length) throw new Error(`the checkpoint was trained with other settings (${differs.join(', ')}); start a new run to use these`);
    if (meta.dataHash !== this.o.data.dataHash)
      throw new Error('the checkpoint was trained on other photos, class images or prompts; start a new run to use these');
    if (
      meta.layout.length !== this.layout.entries.length ||
      meta.layout.some((e, i) => e.name !== this.layout.entries[i]!.name || e.size !== this.layout.entries[i]!.size)
    ) {
      throw new Error('the checkpoint’s weights do not fit this model');
    }
    this.runtime.importState(state);
    this.stepsDone = meta.step;
    this.rng = NoiseGenerator.fromState(meta.sampler.rng);
    this.instanceCursor = meta.sampler.instances;
    this.priorCursor = meta.sampler.priors;
  }

  dispose(): Promise<void> {
    return this.runtime.dispose();
  }

  // ------------------------------------------------------------------ data

  /** Feeds of one micro-batch, drawn from the run's stream in a fixed order: items, timesteps, noise. */
  private microBatch(): Record<string, Feed> {
    const { data, settings: s, schedule } = this.o;
    const n = s.batchSize;
    const items: Float32Array[] = [];
    const texts: (Float32Array | BigInt64Array)[] = [];
    for (let i = 0; i < n; i++) {
      items.push(data.instances[this.draw(this.instanceCursor, data.instances.length)]!);
      texts.push(data.instanceText);
    }
    if (this.withPriors) {
      for (let i = 0; i < n; i++) {
        items.push(data.priors[this.draw(this.priorCursor, data.priors.length)]!);
        texts.push(data.classText);
      }
    }
    const B = items.length;
    const x0 = new Float32Array(B * this.perItem);
    items.forEach((item, b) => x0.set(item, b * this.perItem));
    const timesteps = sampleTrainingTimesteps(this.rng, schedule, B);
    const noise = this.rng.randn(B * this.perItem);
    const text = this.compiled.textInGraph ? concatBigInt(texts as BigInt64Array[]) : concatFloat(texts as Float32Array[]);
    return {
      [TRAIN_IO.sample]: addNoise(schedule, x0, noise, timesteps),
      [TRAIN_IO.timestep]: Float32Array.from(timesteps),
      [TRAIN_IO.target]: noise,
      [TRAIN_IO.weights]: priorPreservationWeights(n, this.withPriors ? n : 0, s.priorLossWeight),
      [this.compiled.textInGraph ? TRAIN_IO.ids : TRAIN_IO.text]: text,
    };
  }

  /** The next item of a shuffled pass; a new Fisher–Yates shuffle from the run's stream when a pass ends. */
  private draw(cursor: EpochCursor, n: number): number {
    if (cursor.next >= cursor.order.length) {
      const order = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = this.rng.nextUint32() % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      cursor.order = order;
      cursor.next = 0;
    }
    return cursor.order[cursor.next++]!;
  }
}

/** Parses a checkpoint file. @throws when it is not one of ours. */
export function readCheckpoint(file: Uint8Array): { meta: CheckpointMeta; state: Record<string, Float32Array> } {
  const parsed = parseSafetensors(file);
  const raw = parsed.metadata?.[CHECKPOINT_KEY];
  if (!raw) throw new Error('this file is not a studio checkpoint (no dreambooth_studio metadata)');
  const meta = JSON.parse(raw) as CheckpointMeta;
  if (meta.format !== 'dreambooth-studio-checkpoint' || meta.version !== 1) throw new Error(`unsupported checkpoint format ${meta.format} v${meta.version}`);
  const tensors = readSafetensors(file);
  const state: Record<string, Float32Array> = {};
  for (const n of STATE_TENSORS) {
    const t = tensors.get(n);
    if (!t) throw new Error(`the checkpoint has no ${n}`);
    state[n] = t.data;
  }
  return { meta, state };
}

const mean = (v: Float32Array) => v.reduce((a, b) => a + b, 0) / v.length;

function concatFloat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function concatBigInt(parts: BigInt64Array[]): BigInt64Array {
  const out = new BigInt64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
