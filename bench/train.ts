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
 * Options: --no-browser, --no-build (reuse dist/), --networks=tiny,reference,unet, --steps=N (default 10: wasm
 * and the tiny block; the slow SwiftShader runs time 2 steps of the block and 1 of the UNet), --rounds=N
 * (default 3: lever variants run interleaved this many times).
 * For an NVIDIA GPU without a browser see bench/train-gpu.mjs.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import type { Page } from 'playwright-core';
import type { HarnessRequest, HarnessResult } from '../e2e/harness/engine';
import { TrainRuntime } from '../src/engine/runtime/trainRuntime';
import { flag, option, withHarnessPage } from './harness-page';
import { buildStep, type NetworkName, type OptimizerLayout } from './networks';

const networks = option('networks', 'tiny,reference,unet').split(',') as NetworkName[];
const steps = Number(option('steps', '10'));
const rounds = Number(option('rounds', '3'));
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
  /** Fastest timed step: on a loaded machine a better estimate of the step's own cost than the median. */
  msMin?: number;
  msPerStepAll?: number[];
  sessionMs?: number;
  adapter?: string;
  error?: string;
}

/** Timed steps of one wasm run in this process. */
async function nodeWasm(network: NetworkName, optimizer: OptimizerLayout): Promise<{ nodes: number; times: number[]; sessionMs: number }> {
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
  return { nodes: s.program.runtimeNodeCount, times, sessionMs };
}

/** The timing fields of a row from all timed steps of its runs. */
function timing(times: number[], sessionMs: number) {
  return { msPerStep: round(median(times)), msMin: round(Math.min(...times)), msPerStepAll: times.map(round), sessionMs: round(sessionMs) };
}

/**
 * Runs each request `rounds` times, interleaved (A B C A B C …), so that load from other processes
 * spreads over all variants instead of favouring whichever ran in a quiet moment.
 */
async function browserRuns(page: Page, requests: HarnessRequest[], limitMs: number, rounds = 1): Promise<Row[]> {
  const runs: { result?: HarnessResult; times: number[]; error?: string }[] = requests.map(() => ({ times: [] }));
  for (let pass = 0; pass < rounds; pass++) {
    for (const [i, req] of requests.entries()) {
      const acc = runs[i]!;
      if (acc.error) continue;
      try {
        const r = await Promise.race([
          page.evaluate((q) => window.engineHarness.runTrainStep(q), req),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no result within ${limitMs / 1000} s`)), limitMs)),
        ]);
        acc.result ??= r;
        acc.times.push(...r.msPerStep);
      } catch (e) {
        acc.error = (e as Error).message.split('\n')[0];
        // A timed-out run keeps going in the page: start the next one in a fresh page.
        await page.reload();
        await page.waitForFunction(() => document.body.dataset.ready === 'true');
      }
    }
  }
  return requests.map((req, i) => {
    const { result, times, error } = runs[i]!;
    const row: Row = {
      network: req.network,
      ep: req.ep,
      where: 'chromium',
      optimizer: req.optimizer ?? 'flat',
      io: req.io ?? 'ort',
      nodes: result?.nodeCount ?? NaN,
      ...(result ? timing(times, result.createMs) : {}),
      ...(result?.backend.adapter ? { adapter: `${result.backend.adapter.vendor} ${result.backend.adapter.architecture} ${result.backend.adapter.description}`.trim() } : {}),
      ...(error ? { error } : {}),
    };
    process.stderr.write(`  ${JSON.stringify(row)}\n`);
    return row;
  });
}

async function browser(): Promise<{ rows: Row[]; chromium: string }> {
  const { value: rows, chromium } = await withHarnessPage('engine', PORT, async (page) => {
    const rows: Row[] = [];
    if (networks.includes('tiny')) {
      const tiny = (r: Partial<HarnessRequest>): HarnessRequest => ({ network: 'tiny', ep: 'webgpu', steps, warmup: 2, ...r });
      const levers = [tiny({ ep: 'wasm' }), tiny({}), tiny({ io: 'gpu' }), tiny({ io: 'capture' }), tiny({ optimizer: 'per-parameter' })];
      rows.push(...(await browserRuns(page, levers, 300_000, rounds)));
    }
    if (networks.includes('reference')) {
      rows.push(...(await browserRuns(page, [{ network: 'reference', ep: 'webgpu', steps: 2, warmup: 1 }], 300_000)));
    }
    if (networks.includes('unet')) {
      rows.push(...(await browserRuns(page, [{ network: 'unet', ep: 'webgpu', steps: 1, warmup: 1 }], 540_000)));
    }
    return rows;
  });
  return { rows, chromium };
}

const rows: Row[] = [];
const descriptions: Record<string, string> = {};
for (const n of networks) {
  const s = buildStep(n);
  descriptions[n] = `${s.description}; ${s.trainable} trainable values`;
  const variants = n === 'unet' ? (['flat'] as const) : (['flat', 'per-parameter'] as const);
  const acc = variants.map(() => ({ nodes: 0, times: [] as number[], sessionMs: 0 }));
  for (let r = 0; r < (n === 'unet' ? 1 : rounds); r++) {
    for (const [i, optimizer] of variants.entries()) {
      const run = await nodeWasm(n, optimizer);
      acc[i] = { nodes: run.nodes, times: [...acc[i]!.times, ...run.times], sessionMs: acc[i]!.sessionMs || run.sessionMs };
    }
  }
  variants.forEach((optimizer, i) => {
    const a = acc[i]!;
    rows.push({ network: n, ep: 'wasm', where: 'node', optimizer, nodes: a.nodes, ...timing(a.times, a.sessionMs) });
    process.stderr.write(`  ${JSON.stringify(rows[rows.length - 1])}\n`);
  });
}
const web = flag('no-browser') ? null : await browser();
if (web) rows.push(...web.rows);

console.log(
  JSON.stringify(
    {
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, chromium: web?.chromium },
      wasmThreads: threads,
      timedSteps: steps,
      rounds,
      networks: descriptions,
      note: 'nodes = nodes that run each step (frozen-weight-only nodes constant-fold); msPerStep / msMin: median / fastest of the timed steps after warm-up, loss read-back included',
      load: loadavg().map(round),
      results: rows,
    },
    null,
    2,
  ),
);
