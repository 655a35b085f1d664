import type { Ort } from './ort';

/** The execution providers the engine uses: onnxruntime-web's WebGPU and wasm EPs, and (Node only) onnxruntime-node's native CPU EP. */
export type ExecutionProvider = 'webgpu' | 'wasm' | 'cpu';

/** What actually ran, established after the session exists (never just what was requested). */
export interface BackendReport {
  readonly ep: ExecutionProvider;
  /** For people: a real GPU, a software rasterizer posing as one (SwiftShader, fallback adapters), or the CPU. */
  readonly kind: 'gpu' | 'software-gpu' | 'cpu';
  /** WebGPU adapter identity, when ep is webgpu. */
  readonly adapter?: {
    readonly vendor: string;
    readonly architecture: string;
    readonly device: string;
    readonly description: string;
    readonly isFallbackAdapter: boolean;
  };
  /** CPU threads, when ep is wasm or cpu. */
  readonly threads?: number;
}

/** The adapter fields that tell a real GPU from a software renderer. */
export interface AdapterIdentity {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
}

/**
 * Whether a WebGPU adapter is a software renderer, and why. Chromium without a GPU serves WebGPU through
 * SwiftShader, a CPU renderer older versions do not flag as a fallback adapter, so the names are checked too.
 * The one classifier for the studio's backend badge and the engine's reports (no onnxruntime import, so the
 * worker's probe can use it cheaply).
 */
export function classifyAdapter(a: AdapterIdentity): { software: boolean; reason: string } {
  if (a.isFallbackAdapter) return { software: true, reason: 'the browser reports a fallback (software) adapter' };
  if (/swiftshader|llvmpipe|lavapipe|software|warp/i.test(`${a.vendor} ${a.architecture} ${a.description}`)) {
    return { software: true, reason: 'the adapter is a software renderer' };
  }
  return { software: false, reason: 'a hardware adapter answered' };
}

/**
 * The WebGPU device onnxruntime-web created for its sessions. Only meaningful after a session was
 * created with `executionProviders: ['webgpu']` alone (a list with 'wasm' falls back silently).
 */
export async function ortWebGpuDevice(ort: Ort): Promise<GPUDevice> {
  const device = (await ort.env.webgpu.device) as GPUDevice | undefined;
  if (!device) throw new Error('WebGPU: onnxruntime-web has no GPU device although a webgpu session exists');
  return device;
}

export function describeWebGpu(device: GPUDevice, ort: Ort): BackendReport {
  const fromAdapter = (ort.env.webgpu.adapter as GPUAdapter | undefined)?.info;
  const info: GPUAdapterInfo | undefined = device.adapterInfo ?? fromAdapter;
  const adapter = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter),
  };
  return { ep: 'webgpu', kind: classifyAdapter(adapter).software ? 'software-gpu' : 'gpu', adapter };
}

export function describeWasm(ort: Ort): BackendReport {
  return { ep: 'wasm', kind: 'cpu', threads: ort.env.wasm.numThreads ?? 1 };
}

export function describeNativeCpu(threads: number): BackendReport {
  return { ep: 'cpu', kind: 'cpu', threads };
}
