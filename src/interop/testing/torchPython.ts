import { spawnSync } from 'node:child_process';

/** The first interpreter that imports torch (pyenv's python3 may lack Debian's python3-torch). */
export function torchPython(): { python: string } | { reason: string } {
  const tried: string[] = [];
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return { python };
    tried.push(`${python}: ${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)}`);
  }
  return { reason: `no python3 with PyTorch (${tried.join('; ')})` };
}
