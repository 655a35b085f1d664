import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Manifest {
  name?: string;
  scripts?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
}

const root = resolve(import.meta.dirname, '..');
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Manifest;
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

/** Every installed package (nested node_modules too) with an install-time script, by name. */
function packagesWithInstallScripts(dir: string, found = new Map<string, string[]>()): Map<string, string[]> {
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@') ? readdirSync(join(dir, entry)).map((n) => join(entry, n)) : [entry];
    for (const name of names) {
      const manifestFile = join(dir, name, 'package.json');
      if (!existsSync(manifestFile)) continue;
      const scripts = Object.keys(read(manifestFile).scripts ?? {}).filter((s) => INSTALL_SCRIPTS.includes(s));
      if (scripts.length > 0) found.set(name, scripts);
      packagesWithInstallScripts(join(dir, name, 'node_modules'), found);
    }
  }
  return found;
}

describe('install scripts (npm 11 allowScripts)', () => {
  const policy = read(join(root, 'package.json')).allowScripts ?? {};

  it('names every installed dependency that has one, so npm ci prints no install-scripts warning', () => {
    const unreviewed = [...packagesWithInstallScripts(join(root, 'node_modules')).keys()].filter((name) => !(name in policy));
    expect(unreviewed).toEqual([]);
  });

  it("never allows onnxruntime-node's, which downloads from a host that cannot be reached", () => {
    expect(policy['onnxruntime-node']).toBe(false);
  });
});
