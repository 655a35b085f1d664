/**
 * Issue 12, "Faults": the GPU device is lost mid-run (a driver reset, the tab's GPU process gone). The studio's train
 * loop (src/dreambooth/trainingJob.ts) on the micro UNet and the WebGPU EP, over a real IndexedDB: a step, a checkpoint
 * saved as the studio saves one, another step, then the device onnxruntime runs on is destroyed and the next step must
 * fail — not hang, not return a made-up loss — with the studio's message; the saved checkpoint then resumes on wasm
 * ({@link resumeSaved}, on a fresh page).
 */
import { clear, createStore } from 'idb-keyval';
import type { CheckpointInfo } from '../../src/dreambooth/jobTypes';
import { DreamBoothTrainer } from '../../src/dreambooth/trainer';
import { stoppedAt } from '../../src/dreambooth/trainingJob';
import { GraphBuilder } from '../../src/engine/graph';
import { ortWebGpuDevice } from '../../src/engine/runtime/backend';
import { InferenceBackend } from '../../src/generation/inferenceBackend';
import { sha256Hex } from '../../src/storage/contentHash';
import { loadCheckpoint, saveCheckpoint } from '../../src/storage/dreamboothRecords';
import { deviceLostCode } from '../../src/worker/deviceLostCode';
import { loadFolder, trainerOptions } from './dreamboothModel';

export interface DeviceLossRun {
  ep: string;
  /** The error the failed step ended the run with, or why there was none. */
  failure: string;
  /** How long the failing step took to fail. */
  failMs: number;
  /** What a generation session's run (the Generate step's backend) ended with on the lost device. */
  generationFailure: string;
  /** The job error codes the worker would answer with (its codeOf): 'device-lost' makes the page replace the worker. */
  codes: { train: string; generation: string | undefined };
  lostReason: string;
  /** SHA-256 of the checkpoint file saved after step 1. */
  savedSha: string;
  /** The loss the GPU computed for step 2, before the device was lost. */
  gpuLoss: number;
}

export interface ResumeRun {
  /** The step of the checkpoint loaded back from IndexedDB and the SHA-256 of its bytes. */
  savedStep: number | null;
  savedSha: string;
  /** The wasm trainer's step after restoring it, and the loss of the step it then trains. */
  resumedAt: number;
  resumedLoss: number;
}

/** A step that neither resolves nor rejects within this long counts as a hang. */
const HANG_MS = 30_000;
const SUBJECT = 'device-loss';
const store = () => createStore('e2e-device-loss', 'records');

/** Step 1, its checkpoint, step 2, the device destroyed, step 3: what that step ended with. */
export async function deviceLoss(): Promise<DeviceLossRun> {
  await clear(store());
  const options = trainerOptions(await loadFolder('micro'), 'micro', 'webgpu');
  const gpu = await DreamBoothTrainer.create(options);
  try {
    await gpu.trainStep();
    const { file } = await gpu.checkpoint();
    const info: CheckpointInfo = {
      id: `run-${gpu.step}`,
      subjectId: SUBJECT,
      runId: 'run',
      step: gpu.step,
      totalSteps: 4,
      bytes: file.byteLength,
      weightBytes: 0,
      createdAt: Date.now(),
      loss: 0,
      settings: options.settings,
      identifier: 'sks',
      classNoun: 'toy',
      baseModelId: 'micro',
    };
    await saveCheckpoint(store(), { info, parts: { state: new Blob([file as Uint8Array<ArrayBuffer>]) } }, 3);
    const gpuLoss = (await gpu.trainStep()).loss;
    // The Generate step's backend on the same device, with a session compiled before the loss.
    const generation = await InferenceBackend.open({ preference: 'webgpu' });
    const g = new GraphBuilder('add_one');
    g.output(g.add(g.input('x', 'float32', [4]), 1), 'y');
    const session = await generation.createSession(g);

    const device = await ortWebGpuDevice(gpu.runtime.ort);
    device.destroy();
    const lostReason = (await device.lost).reason;
    let generationCode: string | undefined;
    const generationFailure = await settledWithin(
      session.run({ x: new generation.ort.Tensor('float32', new Float32Array(4), [4]) }).then(() => 'no error: the run returned'),
      (e) => ((generationCode = deviceLostCode(e)), e instanceof Error ? e.message : String(e)),
    );
    let trainCode = 'none';
    const t0 = performance.now();
    // As the studio's loop does: a failed step becomes the message that names the step and the checkpoint to resume.
    const failure = await settledWithin(
      gpu.trainStep().then((m) => `no error: step ${m.step} returned loss ${m.loss}`),
      (e) => {
        const error = stoppedAt(e, gpu.step, info);
        trainCode = error.code;
        return error.message;
      },
    );
    const failMs = performance.now() - t0;
    return {
      ep: gpu.backend.ep,
      failure,
      failMs,
      generationFailure,
      codes: { train: trainCode, generation: generationCode },
      lostReason,
      savedSha: await sha256Hex(file as Uint8Array<ArrayBuffer>),
      gpuLoss,
    };
  } finally {
    await gpu.dispose().catch(() => undefined); // its buffers belong to the destroyed device
  }
}

/** What `work` ended with: its value, `failed(error)`, or a hang after HANG_MS. */
function settledWithin(work: Promise<string>, failed: (error: unknown) => string): Promise<string> {
  return Promise.race([work.catch(failed), new Promise<string>((resolve) => setTimeout(() => resolve(`hang: no answer in ${HANG_MS} ms`), HANG_MS))]);
}

/**
 * Resume on wasm from the newest saved checkpoint. Run it on a fresh page: onnxruntime-web allows one run at a time
 * per module instance, and the run the lost device left unsettled keeps that instance busy for good.
 */
export async function resumeSaved(): Promise<ResumeRun> {
  const loaded = await loadCheckpoint(store(), SUBJECT);
  const bytes = loaded ? new Uint8Array(await loaded.parts.state!.arrayBuffer()) : new Uint8Array();
  const cpu = await DreamBoothTrainer.create(trainerOptions(await loadFolder('micro'), 'micro', 'wasm'));
  try {
    cpu.restore(bytes);
    const resumedAt = cpu.step;
    return { savedStep: loaded?.info.step ?? null, savedSha: await sha256Hex(bytes), resumedAt, resumedLoss: (await cpu.trainStep()).loss };
  } finally {
    await cpu.dispose();
  }
}
