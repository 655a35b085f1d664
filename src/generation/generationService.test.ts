import { afterAll, describe, expect, it } from 'vitest';
import { JobClient } from '../protocol/client';
import type { Endpoint } from '../protocol/jobs';
import { serveJobs } from '../protocol/server';
import type { StudioJobs } from '../protocol/studioJobs';
import { readPngParameters } from '../export/pngImage';
import { probeBackend } from '../worker/backendProbe';
import type { BackendReport } from '../protocol/studioJobs';
import { explainGenerateFailure } from '../state/generateErrors';
import { GenerationService } from './generationService';
import type { GenerateProgress, GenerateRequest } from './jobTypes';

type GenerationJobs = Pick<StudioJobs, 'loadModel' | 'generate' | 'unloadModels'>;

// The worker's handlers, as studio.worker.ts registers them, over a real MessageChannel (structured clone, transfers).
// What the worker's probe finds in Node: no WebGPU, not cross-origin isolated (one wasm thread).
const nodeProbe = probeBackend({ gpu: undefined, crossOriginIsolated: false, hardwareConcurrency: 2 });
const service = new GenerationService(nodeProbe);
const { port1, port2 } = new MessageChannel();
serveJobs<GenerationJobs>(port2 as unknown as Endpoint, {
  loadModel: (r) => service.loadModel(r),
  generate: (r, ctx) => service.generate(r, ctx),
  unloadModels: () => service.unloadModels(),
});
const client = new JobClient<GenerationJobs>(port1 as unknown as Endpoint);
port1.start();
port2.start();
afterAll(async () => {
  await service.unloadModels();
  port1.close();
  port2.close();
});

const request: GenerateRequest = { prompt: 'a dog', sampler: 'dpmpp_2m', steps: 1, guidanceScale: 4, seed: 8, numImages: 1, width: 16, height: 16 };

describe('generation jobs through the protocol (Node: no WebGPU)', () => {
  it('loadModel reports the pretrained built-in model, on the CPU, and why', async () => {
    const loaded = await client.request('loadModel', {});
    expect(loaded).toMatchObject({ modelId: 'builtin', untrained: false, width: 64, height: 64, sizeMultiple: 16 });
    expect(loaded.components.map((c) => [c.name, c.untrained])).toEqual([
      ['text_encoder', false],
      ['unet', false],
      ['vae', false],
    ]);
    expect(loaded.components.every((c) => c.parameters > 100_000)).toBe(true);
    expect(loaded.backend).toMatchObject({ ep: 'wasm', kind: 'cpu', requested: 'auto', threads: 1 });
    expect(loaded.backend.why).toMatch(/this browser has no WebGPU/);
    expect(loaded.compileMs).toBeGreaterThan(0);
    // Loading again compiles nothing.
    expect((await client.request('loadModel', {})).compileMs).toBe(0);
  });

  it('generate answers with PNG bytes carrying the parameters, and progress on the way', async () => {
    const events: GenerateProgress[] = [];
    const result = await client.request('generate', { ...request, numImages: 2 }, { onProgress: (p) => events.push(p) });
    expect(result.images).toHaveLength(2);
    expect(result.seeds).toEqual([8, 9]);
    expect(readPngParameters(new Uint8Array(result.images[1]!.png))).toContain('Seed: 9, Size: 16x16, Model: builtin');
    expect(result.usage.unetEvaluations).toBe(2 * 1 * 2);
    expect(result.backend.why).toBe((await client.request('loadModel', {})).backend.why);
    expect(events.map((e) => `${e.stage}:${e.step}`)).toEqual(['encoding-text:0', 'compiling:0', 'denoising:0', 'denoising:1', 'decoding:1']);
  });

  it.each([
    [{ ...request, steps: 0 }, 'steps', 'steps must be ≥ 1'],
    [{ ...request, sampler: 'heun' }, 'sampler', 'sampler must be one of "ddim", "euler_a", "dpmpp_2m"'],
    [{ ...request, seed: -1 }, 'seed', 'seed must be ≥ 0'],
    [{ ...request, eta: 0.5 }, 'eta', 'eta is a DDIM setting; sampler "dpmpp_2m" does not take it'],
    [{ ...request, width: 40 }, 'width', 'width 40 must be a multiple of 16 for this model'],
    [{ ...request, modelId: 'sd15' }, 'modelId', 'there is no model "sd15": use "builtin", a trained checkpoint or an imported model'],
    [{ ...request, stepz: 3 }, 'stepz', 'stepz is not a known field'],
    [{ prompt: 'x' }, 'sampler', 'sampler is required'],
  ])('refuses bad input with the field: %j', async (payload, field, message) => {
    const error = await client.request('generate', payload as GenerateRequest).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'bad-input', field, message });
  });

  it('a cancelled request rejects at once, and unloadModels releases the compiled sessions', async () => {
    const controller = new AbortController();
    const pending = client.request(
      'generate',
      { ...request, steps: 30 },
      {
        signal: controller.signal,
        onProgress: (p) => p.step === 1 && controller.abort(),
      },
    );
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
    const { sessionsReleased } = await client.request('unloadModels', undefined);
    expect(sessionsReleased).toBeGreaterThanOrEqual(3);
    expect((await client.request('unloadModels', undefined)).sessionsReleased).toBe(0);
  });
});

describe('GenerationService', () => {
  it('runs jobs for different backend preferences one at a time, never interleaved on the one ORT instance', async () => {
    const own = new GenerationService(nodeProbe);
    const log: string[] = [];
    const context = (tag: string) => ({
      signal: new AbortController().signal,
      progress: (p: GenerateProgress) => log.push(`${tag}:${p.stage}`),
      transfer: () => undefined,
    });
    try {
      await Promise.all([
        own.generate({ ...request, steps: 3, backend: 'auto' }, context('auto')),
        own.generate({ ...request, steps: 3, backend: 'wasm' }, context('wasm')),
      ]);
      // Each request's 'loading-model' event is sent on arrival; everything after it must come in two unbroken runs.
      const running = log.filter((entry) => !entry.endsWith(':loading-model')).map((entry) => entry.split(':')[0]);
      const firstOther = running.findIndex((tag) => tag !== running[0]);
      expect(firstOther).toBeGreaterThan(0);
      expect(running.slice(firstOther).every((tag) => tag !== running[0])).toBe(true);
    } finally {
      await own.unloadModels();
    }
  });
});

describe('GenerationService backend settings', () => {
  // A machine whose only WebGPU adapter is SwiftShader, as headless Chromium reports it.
  const softwareProbe = async (): Promise<BackendReport> => ({
    ...(await nodeProbe),
    backend: 'webgpu-software',
    reason: 'the browser reports a fallback (software) adapter',
    adapter: {
      vendor: 'google',
      architecture: 'swiftshader',
      device: '',
      description: '',
      isFallbackAdapter: true,
      shaderF16: false,
      limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27, maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256 },
    },
    wasmThreads: 1,
  });

  it("'auto' passes over a software adapter for wasm and says why", async () => {
    const own = new GenerationService(softwareProbe());
    try {
      const loaded = await own.loadModel({ backend: 'auto' });
      expect(loaded.backend).toMatchObject({ ep: 'wasm', kind: 'cpu', requested: 'auto' });
      expect(loaded.backend.why).toMatch(/software renderer, far slower than WebAssembly/);
      expect(loaded.backend.why).toContain('google swiftshader');
    } finally {
      await own.unloadModels();
    }
  });

  it('GPU asked for by name is tried, and its failure is a plain sentence with the library text kept apart', async () => {
    const own = new GenerationService(softwareProbe());
    // Node has no navigator.gpu: onnxruntime's WebGPU EP cannot start, as in a browser that hides the adapter.
    const error = await own.loadModel({ backend: 'webgpu' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const explained = explainGenerateFailure(error);
    expect(explained.reason).toBe('The graphics card (WebGPU) could not be used in this browser.');
    expect(explained.fix).toMatch(/Choose CPU or Auto/);
    expect(explained.detail).toBe((error as Error).message);
  });
});
