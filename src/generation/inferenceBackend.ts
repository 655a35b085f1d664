import type { InferenceSession } from 'onnxruntime-web';
import { serializeGraph, type GraphBuilder } from '../engine/graph';
import { EngineDevice } from '../engine/runtime/engineDevice';
import type { Ort, OrtFlavor } from '../engine/runtime/ort';
import { sessionOptions } from '../engine/runtime/sessionOptions';
import type { BackendPreference, GenerationBackend } from './jobTypes';

/** How the WebGPU denoising loop feeds its session (wasm always uses CPU tensors). */
export type WebGpuIo =
  /** Latents stay in GPU buffers ORT returns ('gpu-buffer' outputs fed back); per-step numbers are written into fixed buffers. */
  | 'gpu'
  /** As 'gpu', with every input and output in a fixed buffer and the step's commands recorded once and replayed (enableGraphCapture). */
  | 'capture';

export interface OpenBackendOptions {
  /** The execution provider to open ('auto' is resolved before this, by chooseBackend); 'cpu' (onnxruntime-node) in Node only. */
  preference: 'webgpu' | 'wasm' | 'cpu';
  /** The setting behind it and why it led here, for the report; default: this provider was asked for directly. */
  choice?: { requested: BackendPreference; why: string; detail?: string };
  /** Which onnxruntime-web build to load (Node with Dawn needs 'node-webgpu'). */
  ortFlavor?: OrtFlavor;
  /**
   * CPU threads. wasm: set when onnxruntime is not initialised yet; default 1 in Node (tests), ORT's own (half the
   * cores) in browsers. cpu: per session, default 1.
   */
  threads?: number;
  /** WebGPU loop mode; default 'capture' (per-node dispatch from JS is what a step costs on a fast GPU; capture removes it). */
  webGpuIo?: WebGpuIo;
}

/**
 * The execution provider the generation sessions use, on the realm's one {@link EngineDevice} (the device, its error
 * and loss watch, and the proof that WebGPU really runs are there, shared with training), with the choice that led
 * to it for the report. If WebGPU cannot run, `open` throws and the caller decides whether to fall back.
 */
export class InferenceBackend {
  private constructor(
    /** The device the sessions run on, shared with training and with the denoise step's program runtime. */
    readonly engine: EngineDevice,
    readonly report: GenerationBackend,
    readonly webGpuIo: WebGpuIo,
  ) {}

  static async open(o: OpenBackendOptions): Promise<InferenceBackend> {
    const choice = o.choice ?? { requested: o.preference === 'cpu' ? 'wasm' : o.preference, why: `${o.preference} was asked for` };
    const io = o.webGpuIo ?? 'capture';
    const threads = o.preference === 'cpu' ? (o.threads ?? 1) : o.threads;
    const engine = await EngineDevice.open({ ep: o.preference, ...(o.ortFlavor ? { ortFlavor: o.ortFlavor } : {}), ...(threads ? { threads } : {}) });
    const r = engine.report;
    if (r.ep === 'webgpu') {
      const a = r.adapter!;
      const adapter = [a.vendor, a.architecture, a.description].filter(Boolean).join(' ');
      return new InferenceBackend(engine, { ep: 'webgpu', kind: r.kind, adapter, ...choice }, io);
    }
    return new InferenceBackend(engine, { ep: r.ep, kind: 'cpu', threads: r.threads ?? 1, ...choice }, io);
  }

  get ort(): Ort {
    return this.engine.ort;
  }

  /** The GPUDevice the sessions run on (WebGPU), or null. */
  get device(): GPUDevice | null {
    return this.engine.gpu;
  }

  get ep(): GenerationBackend['ep'] {
    return this.report.ep;
  }

  /**
   * A session for `graph` on this backend. `gpuOutputs` stay on the GPU (WebGPU only); `capture` records the
   * graph's commands on first run and replays them (every input and output must then be a GPU buffer). Its runs
   * fail with the loss once the device is lost, as the train runtime's do.
   */
  createSession(graph: GraphBuilder, o: { gpuOutputs?: readonly string[]; capture?: boolean } = {}): Promise<InferenceSession> {
    return this.engine.createSession(serializeGraph(graph), sessionOptions(this.ep, { ...o, threads: this.engine.threads }));
  }

  /**
   * Throws if WebGPU reported an error since the last check. onnxruntime does not: a kernel that fails
   * validation leaves its output zeros, which would come out as noise images labelled a success.
   */
  throwGpuErrors(what: string): void {
    this.engine.throwGpuErrors(what);
  }
}
