import type { InferenceSession } from 'onnxruntime-web';
import { GraphBuilder, serializeGraph } from '../engine/graph';
import { describeWasm, describeWebGpu, ortWebGpuDevice } from '../engine/runtime/backend';
import { GpuErrorWatch } from '../engine/runtime/gpuErrors';
import { configureWasmThreads, loadOrt, type Ort, type OrtFlavor } from '../engine/runtime/ort';
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
 * The onnxruntime-web execution provider the generation sessions use, opened once and reported honestly.
 * WebGPU is requested alone (`['webgpu']`, never `['webgpu', 'wasm']`, which falls back silently) and proven
 * by running a one-node probe graph whose output must come back as a GPU buffer; if it cannot run, `open`
 * throws and the caller decides whether to fall back.
 */
export class InferenceBackend {
  private readonly gpuErrors: GpuErrorWatch | null;

  private constructor(
    readonly ort: Ort,
    readonly device: GPUDevice | null,
    readonly report: GenerationBackend,
    readonly webGpuIo: WebGpuIo,
    private readonly cpuThreads?: number,
  ) {
    this.gpuErrors = device ? new GpuErrorWatch(device) : null;
  }

  static async open(o: OpenBackendOptions): Promise<InferenceBackend> {
    const choice = o.choice ?? { requested: o.preference === 'cpu' ? 'wasm' : o.preference, why: `${o.preference} was asked for` };
    const io = o.webGpuIo ?? 'capture';
    if (o.preference === 'cpu') {
      const threads = o.threads ?? 1;
      return new InferenceBackend(await loadOrt('node-native'), null, { ep: 'cpu', kind: 'cpu', threads, ...choice }, io, threads);
    }
    const ort = await loadOrt(o.ortFlavor);
    // Before the probe: its session would initialise onnxruntime with the default thread count.
    configureWasmThreads(ort, o.threads);
    if (o.preference === 'webgpu') {
      const failure = await probeWebGpu(ort);
      if (failure !== null) throw new Error(`WebGPU cannot run: ${failure}`);
      const device = await ortWebGpuDevice(ort);
      const d = describeWebGpu(device, ort);
      const a = d.adapter!;
      const adapter = [a.vendor, a.architecture, a.description].filter(Boolean).join(' ');
      return new InferenceBackend(ort, device, { ep: 'webgpu', kind: d.kind, adapter, ...choice }, io);
    }
    const report: GenerationBackend = { ep: 'wasm', kind: 'cpu', threads: describeWasm(ort).threads, ...choice };
    return new InferenceBackend(ort, null, report, io);
  }

  get ep(): GenerationBackend['ep'] {
    return this.report.ep;
  }

  /**
   * A session for `graph` on this backend. `gpuOutputs` stay on the GPU (WebGPU only); `capture` records the
   * graph's commands on first run and replays them (every input and output must then be a GPU buffer).
   */
  async createSession(graph: GraphBuilder, o: { gpuOutputs?: readonly string[]; capture?: boolean } = {}): Promise<InferenceSession> {
    const session = await this.ort.InferenceSession.create(serializeGraph(graph), sessionOptions(this.ep, { ...o, threads: this.cpuThreads }));
    const watch = this.gpuErrors;
    if (!watch) return session;
    // A run on a lost device never settles: it fails with the loss instead, as the train runtime's do.
    const run = session.run.bind(session);
    session.run = ((...args: Parameters<InferenceSession['run']>) => watch.unlessLost(run(...args))) as InferenceSession['run'];
    return session;
  }

  /**
   * Throws if WebGPU reported an error since the last check. onnxruntime does not: a kernel that fails
   * validation leaves its output zeros, which would come out as noise images labelled a success.
   */
  throwGpuErrors(what: string): void {
    this.gpuErrors?.throwIfAny(what);
  }

  /** Stops watching the device for errors (sessions are released by their owners). */
  close(): void {
    this.gpuErrors?.close();
  }
}

/** Null when a WebGPU session runs and keeps its output on the GPU; otherwise why not. */
async function probeWebGpu(ort: Ort): Promise<string | null> {
  if (typeof navigator === 'undefined' || !(navigator as Navigator & { gpu?: GPU }).gpu) return 'navigator.gpu missing';
  const g = new GraphBuilder('webgpu_probe');
  g.output(g.add(g.input('x', 'float32', [4]), 1), 'y');
  let session: InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(serializeGraph(g), { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' });
    const { y } = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [4]) });
    const location = y!.location;
    const values = Array.from((await y!.getData(true)) as Float32Array);
    if (location !== 'gpu-buffer') return `the probe's output came back on '${location}', so the webgpu EP did not run it`;
    if (values.join() !== '2,3,4,5') return `the probe computed ${values.join()} instead of 2,3,4,5`;
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    await session?.release();
  }
}
