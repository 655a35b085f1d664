import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface StaticServer {
  origin: string;
  stop(): Promise<void>;
}

/**
 * Serves a folder the way a plain static host does — Python's http.server: no COOP/COEP, no CSP, no custom headers —
 * on 127.0.0.1 at a free port. Killed after `lifetimeSeconds` at the latest, whatever happens to the test.
 */
export async function startStaticServer(folder: string, lifetimeSeconds: number): Promise<StaticServer> {
  const child = spawn('timeout', [String(lifetimeSeconds), 'python3', '-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', folder], {
    stdio: ['ignore', 'pipe', 'ignore'], // its request log goes to stderr
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = await new Promise<string>((resolve, reject) => {
    // "Serving HTTP on 127.0.0.1 port 43211 (http://127.0.0.1:43211/) ..."
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const port = /port (\d+)/.exec(line)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}`);
    });
    child.once('exit', (code) => reject(new Error(`python3 -m http.server exited (${code}) before serving ${folder}`)));
  });
  return {
    origin,
    stop: async () => {
      child.kill();
      await exited;
    },
  };
}
