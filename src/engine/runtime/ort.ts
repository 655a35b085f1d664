/**
 * The one place that loads onnxruntime-web, for the browser (page or worker, under Vite) and for Node.
 *
 * - Browser: `import('onnxruntime-web')` resolves (package "browser"/"import" condition) to
 *   `dist/ort.bundle.min.mjs`, the JSEP build holding both the WebGPU and the wasm EP. Its emscripten glue
 *   (`ort-wasm-simd-threaded.jsep.mjs`) and binary (`….jsep.wasm`) are imported with Vite's `?url`, emitted
 *   as hashed assets by `vite build`, and handed to `env.wasm.wasmPaths`. Serving the glue as its own file
 *   matters: wasm threads start their workers from the glue's URL, and the glue inlined in the bundle would
 *   make them load whatever app chunk the bundle ended up in.
 * - Node (Vitest, tsx): the same specifier resolves to `dist/ort.node.min.mjs`, a wasm-only build that finds its
 *   wasm next to itself.
 * - Node with a WebGPU device (Dawn via the `webgpu` package, see bench/train-gpu.mjs): `loadOrt('node-webgpu')`
 *   imports `dist/ort.bundle.min.mjs` by file path, since the package exports no Node entry with WebGPU.
 * - Node, native (`loadOrt('node-native')`): onnxruntime-node's CPU EP, 2.3–3× faster than the wasm EP on the same
 *   graph bytes. It shares onnxruntime-common's InferenceSession/Tensor API, so the engine drives it unchanged.
 *   Imported by a computed specifier so browser bundles never pull it in.
 */
import type * as OrtNamespace from 'onnxruntime-web';

export type Ort = typeof OrtNamespace;
export type OrtFlavor = 'auto' | 'node-webgpu' | 'node-native';

const loaded = new Map<OrtFlavor, Promise<Ort>>();

/** Whether this is Node (or Vitest in node environment) rather than a browser page or worker. */
export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** Loads (once) and returns the onnxruntime-web module for this environment. */
export function loadOrt(flavor: OrtFlavor = 'auto'): Promise<Ort> {
  let p = loaded.get(flavor);
  if (!p) {
    p = flavor === 'node-webgpu' ? loadNodeWebGpu() : flavor === 'node-native' ? loadNodeNative() : isNode() ? import('onnxruntime-web') : loadBrowser();
    loaded.set(flavor, p);
  }
  return p;
}

/**
 * Sets the wasm thread count before onnxruntime initialises (the setting is global: whichever session opens
 * first decides for every later one). Without an explicit count, Node (tests, tools) gets one thread for
 * deterministic, quiet runs and browsers keep onnxruntime's own choice.
 */
export function configureWasmThreads(ort: Ort, threads?: number): void {
  if (threads !== undefined) ort.env.wasm.numThreads = threads;
  else if (ort.env.wasm.numThreads === undefined && isNode()) ort.env.wasm.numThreads = 1;
}

async function loadBrowser(): Promise<Ort> {
  const [ort, mjs, wasm] = await Promise.all([
    import('onnxruntime-web'),
    import('onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url'),
    import('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url'),
  ]);
  const abs = (u: string) => new URL(u, self.location.href).href;
  ort.env.wasm.wasmPaths = { mjs: abs(mjs.default), wasm: abs(wasm.default) };
  return ort;
}

async function loadNodeWebGpu(): Promise<Ort> {
  const bundle = new URL('ort.bundle.min.mjs', import.meta.resolve('onnxruntime-web')).href;
  return (await import(/* @vite-ignore */ bundle)) as Ort;
}

const NATIVE_PACKAGE = 'onnxruntime-node';

async function loadNodeNative(): Promise<Ort> {
  if (!isNode()) throw new Error('onnxruntime-node runs only in Node');
  return (await import(/* @vite-ignore */ NATIVE_PACKAGE)) as unknown as Ort;
}

/** Whether onnxruntime-node loads here (its package and linux/darwin/win binary present). */
export async function nativeAvailable(): Promise<boolean> {
  if (!isNode()) return false;
  try {
    await loadOrt('node-native');
    return true;
  } catch {
    loaded.delete('node-native');
    return false;
  }
}
