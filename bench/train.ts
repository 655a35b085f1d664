/**
 * `npm run bench:train`: train-step benchmark, printed as JSON.
 *
 *   - wasm EP in Node (this process), per network;
 *   - WebGPU EP in headless Chromium through the harness page (e2e/harness/engine.html, built by
 *     `vite build --mode test`, served by `vite preview`). The performance levers (flat vs
 *     per-parameter optimizer, runtime-owned GPU feed buffers, graph capture) are compared on the tiny
 *     block, where dispatch overhead rather than SwiftShader's arithmetic dominates; the reference
 *     block and the UNet run once each with the default settings.
 *
 * Options: --no-browser, --no-build (reuse dist/), --networks=tiny,reference,unet, --steps=N (wasm
 * and the tiny block; the slow SwiftShader runs time 2 steps of the block and 1 of the UNet).
 * For an NVIDIA GPU without a browser see bench/train-gpu.mjs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { chromium, type Page } from 'playwright-core';
import type { HarnessRequest, HarnessResult } from '../e2e/harness/engine';
import { TrainRuntime } from '../src/engine/runtime/train-runtime';
import { buildStep, type NetworkName, type OptimizerLayout } from './networks';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const networks = option('networks', 'tiny,reference,unet').split(',') as NetworkName[];
const steps = Number(option('steps', '5'));
const threads = Math.min(4, cpus().length);
const PORT = 4179;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};
const round = (x: number) => Math.round(x * 10) / 10;

interface Row {
  network: NetworkName;
  ep: 'wasm' | 'webgpu';
  where: 'node' | 'chromium';
  optimizer: OptimizerLayout;
  io?: string;
  nodes: number;
  msPerStep?: number;
  msPerStepAll?: number[];
  sessionMs?: number;
  adapter?: string;
  error?: string;
}

async function nodeWasm(network: NetworkName, optimizer: OptimizerLayout): Promise<Row> {
  const s = buildStep(network, optimizer);
  const t0 = performance.now();
  const rt = await TrainRuntime.create({ ep: 'wasm', programs: [s.program], state: s.initialState, threads });
  const sessionMs = performance.now() - t0;
  const times: number[] = [];
  for (let t = 1; t <= 2 + steps; t++) {
    const a = performance.now();
    await rt.run('step', s.feeds(t));
    if (t > 2) times.push(performance.now() - a);
  }
  await rt.dispose();
  return {
    network,
    ep: 'wasm',
    where: 'node',
    optimizer,
    nodes: s.program.runtimeNodeCount,
    msPerStep: round(median(times)),
    msPerStepAll: times.map(round),
    sessionMs: round(sessionMs),
  };
}

async function browserRuns(page: Page, requests: HarnessRequest[], limitMs: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const req of requests) {
    const base = { network: req.network, ep: req.ep, where: 'chromium' as const, optimizer: req.optimizer ?? 'flat', io: req.io ?? 'ort' };
    try {
      const r = await Promise.race([
        page.evaluate((q) => window.engineHarness.runTrainStep(q), req),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no result within ${limitMs / 1000} s`)), limitMs)),
      ]);
      rows.push({ ...base, ...summarize(r) });
    } catch (e) {
      rows.push({ ...base, nodes: NaN, error: (e as Error).message.split('\n')[0] });
      // A timed-out run keeps going in the page: start the next one in a fresh page.
      await page.reload();
      await page.waitForFunction(() => document.body.dataset.ready === 'true');
    }
    process.stderr.write(`  ${JSON.stringify(rows[rows.length - 1])}\n`);
  }
  return rows;
}

function summarize(r: HarnessResult) {
  return {
    nodes: r.nodeCount,
    msPerStep: round(median(r.msPerStep)),
    msPerStepAll: r.msPerStep.map(round),
    sessionMs: round(r.createMs),
    adapter: r.backend.adapter ? `${r.backend.adapter.vendor} ${r.backend.adapter.architecture} ${r.backend.adapter.description}`.trim() : undefined,
  };
}

async function run(cmd: string, cmdArgs: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const p = spawn(cmd, cmdArgs, { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${cmdArgs.join(' ')} exited with ${code}`))));
  });
}

async function startPreview(): Promise<ChildProcess> {
  const p = spawn('npx', ['vite', 'preview', '--port', String(PORT), '--strictPort'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('vite preview did not start within 30 s')), 30_000);
    p.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes(String(PORT))) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return p;
}

async function browser(): Promise<{ rows: Row[]; chromium: string }> {
  if (!flag('no-build')) await run('npx', ['vite', 'build', '--mode', 'test', '--logLevel', 'error']);
  const preview = await startPreview();
  const b = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--enable-unsafe-webgpu', '--no-sandbox'] });
  try {
    const page = await b.newPage();
    await page.goto(`http://127.0.0.1:${PORT}/e2e/harness/engine.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    const rows: Row[] = [];
    if (networks.includes('tiny')) {
      const tiny = (r: Partial<HarnessRequest>): HarnessRequest => ({ network: 'tiny', ep: 'webgpu', steps, warmup: 2, ...r });
      const levers = [tiny({ ep: 'wasm' }), tiny({}), tiny({ io: 'gpu' }), tiny({ io: 'capture' }), tiny({ optimizer: 'per-parameter' })];
      rows.push(...(await browserRuns(page, levers, 300_000)));
    }
    if (networks.includes('reference')) {
      rows.push(...(await browserRuns(page, [{ network: 'reference', ep: 'webgpu', steps: 2, warmup: 1 }], 300_000)));
    }
    if (networks.includes('unet')) {
      rows.push(...(await browserRuns(page, [{ network: 'unet', ep: 'webgpu', steps: 1, warmup: 1 }], 540_000)));
    }
    return { rows, chromium: b.version() };
  } finally {
    await b.close();
    process.kill(-preview.pid!);
  }
}

const rows: Row[] = [];
const descriptions: Record<string, string> = {};
for (const n of networks) {
  const s = buildStep(n);
  descriptions[n] = `${s.description}; ${s.trainable} trainable values`;
  for (const opt of n === 'unet' ? (['flat'] as const) : (['flat', 'per-parameter'] as const)) {
    rows.push(await nodeWasm(n, opt));
    process.stderr.write(`  ${JSON.stringify(rows[rows.length - 1])}\n`);
  }
}
const web = flag('no-browser') ? null : await browser();
if (web) rows.push(...web.rows);

console.log(
  JSON.stringify(
    {
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, chromium: web?.chromium },
      wasmThreads: threads,
      timedSteps: steps,
      networks: descriptions,
      note: 'nodes = nodes that run each step (frozen-weight-only nodes constant-fold); ms/step is the median of the timed steps after warm-up, loss read-back included',
      results: rows,
    },
    null,
    2,
  ),
);
