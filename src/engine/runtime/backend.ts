import type { Ort } from './ort';

/** The onnxruntime-web execution providers the engine uses. */
export type ExecutionProvider = 'webgpu' | 'wasm';

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
  /** wasm threads, when ep is wasm. */
  readonly threads?: number;
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
  const architecture = info?.architecture ?? '';
  const isFallbackAdapter = Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter);
  const software = isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|warp/i.test(`${architecture} ${info?.description ?? ''}`);
  return {
    ep: 'webgpu',
    kind: software ? 'software-gpu' : 'gpu',
    adapter: {
      vendor: info?.vendor ?? '',
      architecture,
      device: info?.device ?? '',
      description: info?.description ?? '',
      isFallbackAdapter,
    },
  };
}

export function describeWasm(ort: Ort): BackendReport {
  return { ep: 'wasm', kind: 'cpu', threads: ort.env.wasm.numThreads ?? 1 };
}
