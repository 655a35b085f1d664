/**
 * What both benchmarks share: command-line options, and opening a harness page (e2e/harness/*.html, built by
 * `vite build --mode test`, served by `vite preview`) in headless Chromium with WebGPU enabled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chromium, type Page } from 'playwright-core';

const args = process.argv.slice(2);
export const flag = (name: string) => args.includes(`--${name}`);
export const option = (name: string, fallback: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;

async function run(cmd: string, cmdArgs: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const p = spawn(cmd, cmdArgs, { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${cmdArgs.join(' ')} exited with ${code}`))));
  });
}

async function startPreview(port: number): Promise<ChildProcess> {
  const p = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('vite preview did not start within 30 s')), 30_000);
    p.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes(String(port))) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return p;
}

/**
 * Builds the test bundle (unless `--no-build`), serves it on `port`, opens `e2e/harness/<name>.html` once its
 * page says it is ready, and hands the page to `use`. Returns what `use` returned and the Chromium version.
 */
export async function withHarnessPage<T>(name: string, port: number, use: (page: Page) => Promise<T>): Promise<{ value: T; chromium: string }> {
  if (!flag('no-build')) await run('npx', ['vite', 'build', '--mode', 'test', '--logLevel', 'error']);
  const preview = await startPreview(port);
  const b = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--enable-unsafe-webgpu', '--no-sandbox'] });
  try {
    const page = await b.newPage();
    await page.goto(`http://127.0.0.1:${port}/e2e/harness/${name}.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    return { value: await use(page), chromium: b.version() };
  } finally {
    await b.close();
    process.kill(-preview.pid!);
  }
}
