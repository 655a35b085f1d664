import type { InferenceSession } from 'onnxruntime-web';
import { GraphBuilder, serializeGraph } from '../graph';
import { describeNativeCpu, describeWasm, describeWebGpu, ortWebGpuDevice, type BackendReport, type ExecutionProvider } from './backend';
import { GpuErrorWatch } from './gpuErrors';
import { gpuOutputRun } from './gpuOutputRun';
import { configureWasmThreads, loadOrt, type Ort, type OrtFlavor } from './ort';

export interface EngineDeviceOptions {
  ep: ExecutionProvider;
  /** Which onnxruntime-web build to load (Node with Dawn needs 'node-webgpu'); ep 'cpu' always loads onnxruntime-node. */
  ortFlavor?: OrtFlavor;
  /** wasm: set when onnxruntime is not initialised yet (one setting per realm); cpu: per session, default every core. */
  threads?: number;
}

const opened = new Map<string, Promise<EngineDevice>>();

/**
 * The one owner of a compute device in this realm (a worker, a Node process): the onnxruntime instance of an execution
 * provider, its GPUDevice on WebGPU, the one watch for that device's errors and loss, and the report of what really
 * runs. Training (ProgramRuntime) and generation (InferenceBackend) open their sessions here, so both see the same device,
 * the same errors and the same loss. WebGPU is requested alone (never `['webgpu', 'wasm']`, which falls back silently)
 * and proven by a one-node probe whose output must come back as a GPU buffer.
 */
export class EngineDevice {
  private constructor(
    readonly ort: Ort,
    /** The GPUDevice onnxruntime runs on (WebGPU), or null. */
    readonly gpu: GPUDevice | null,
    readonly report: BackendReport,
    /** CPU threads per session (ep 'cpu'). */
    readonly threads: number | undefined,
    private readonly watch: GpuErrorWatch | null,
  ) {}

  /** The device for `o.ep`, opened on first use and shared after. A failed open is not kept: the next call tries again. */
  static open(o: EngineDeviceOptions): Promise<EngineDevice> {
    const key = `${o.ep}|${o.ep === 'cpu' ? `threads ${o.threads ?? 'all'}` : (o.ortFlavor ?? 'auto')}`;
    let device = opened.get(key);
    if (!device) {
      device = EngineDevice.openNew(o);
      opened.set(key, device);
      device.catch(() => opened.get(key) === device && opened.delete(key));
    }
    return device;
  }

  private static async openNew(o: EngineDeviceOptions): Promise<EngineDevice> {
    if (o.ep === 'cpu') {
      const threads = o.threads ?? (await nodeCpuCount());
      return new EngineDevice(await loadOrt('node-native'), null, describeNativeCpu(threads), threads, null);
    }
    const ort = await loadOrt(o.ortFlavor);
    // Before any session: the first one initialises onnxruntime with the thread count set then.
    configureWasmThreads(ort, o.threads);
    if (o.ep === 'wasm') return new EngineDevice(ort, null, describeWasm(ort), undefined, null);
    const failure = await probeWebGpu(ort);
    if (failure !== null) throw new Error(`WebGPU cannot run: ${failure}`);
    const gpu = await ortWebGpuDevice(ort);
    return new EngineDevice(ort, gpu, describeWebGpu(gpu, ort), undefined, new GpuErrorWatch(gpu));
  }

  get ep(): ExecutionProvider {
    return this.report.ep;
  }

  /**
   * A session on this device. On WebGPU its runs fail with the loss once the device is lost, instead of never settling,
   * and a plain session (outputs to the CPU) runs with its outputs on the GPU, downloaded by onnxruntime (see
   * gpuOutputRun.ts: what a plain run frees must not be lost to a captured session).
   */
  async createSession(model: Uint8Array, options: InferenceSession.SessionOptions): Promise<InferenceSession> {
    const watch = this.watch;
    const plain = options.preferredOutputLocation === undefined && !options.enableGraphCapture;
    if (!watch) return this.ort.InferenceSession.create(model, options);
    const session = await this.ort.InferenceSession.create(model, plain ? { ...options, preferredOutputLocation: 'gpu-buffer' } : options);
    let run = session.run.bind(session);
    if (plain) {
      const wrapped = gpuOutputRun(this.ort, this.gpu!, run);
      const release = session.release.bind(session);
      session.release = async () => {
        wrapped.release();
        await release();
      };
      run = wrapped.run;
    }
    session.run = ((...args: Parameters<InferenceSession['run']>) => watch.unlessLost(run(...args))) as InferenceSession['run'];
    return session;
  }

  /** GPU work (a buffer read), or an error naming the loss as soon as the device is lost: its promises never settle then. */
  unlessLost<T>(work: Promise<T>): Promise<T> {
    return this.watch ? this.watch.unlessLost(work) : work;
  }

  /**
   * Throws if WebGPU reported an error since the last check, naming `what` ran. onnxruntime does not: a kernel that
   * fails validation leaves its output zeros.
   */
  throwGpuErrors(what: string): void {
    this.watch?.throwIfAny(what);
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

const NODE_OS = 'node:os';
/** Cores Node may use (ep 'cpu' runs only in Node; the computed specifier keeps node:os out of browser bundles). */
async function nodeCpuCount(): Promise<number> {
  const os = (await import(/* @vite-ignore */ NODE_OS)) as typeof import('node:os');
  return os.availableParallelism();
}
