import { readFileSync } from 'node:fs';
import type { CheckpointInfo } from '../../src/dreambooth/jobTypes';
import { presetSettings } from '../../src/dreambooth/trainSettings';
import { STATE } from '../../src/engine/optim/trainStep';
import { parseSafetensors, writeSafetensors, type Float32Tensor } from '../../src/model/safetensors';
import type { Page } from './fixtures';

/**
 * A LoRA checkpoint of the built-in model as the trainer writes one (src/dreambooth/trainer.ts `checkpoint()`): rank-2
 * adapters with seeded values on the UNet's first attention projections, written straight into the page's IndexedDB
 * as `saveCheckpoint` lists it — a trained checkpoint in a moment, where a real run on a busy 2-core machine takes
 * minutes. Everything after it (export, import, sampling) runs the studio's own jobs.
 */
export async function storeLoraCheckpoint(page: Page, subject: { id: string; identifier: string; classNoun: string }, step: number): Promise<CheckpointInfo> {
  const header = parseSafetensors(readFileSync(new URL('../../models/builtin/unet/diffusion_pytorch_model.safetensors', import.meta.url)));
  const targets = [...header.entries].filter(([name]) => /attn[12]\.to_[qv]\.weight$/.test(name)).slice(0, 4);
  let seed = 1;
  const values = (n: number) =>
    Float32Array.from({ length: n }, () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return (seed / 2 ** 32 - 0.5) / 5;
    });
  const adapters = targets.map(([name]) => {
    const module = `unet.${name.slice(0, -'.weight'.length)}`;
    return { base: `unet.${name}`, a: `${module}.lora_A.weight`, b: `${module}.lora_B.weight`, rank: 2, alpha: 2 };
  });
  const layout: { name: string; shape: number[]; offset: number; size: number }[] = [];
  const parts: Float32Array[] = [];
  let offset = 0;
  targets.forEach(([, entry], i) => {
    const [out, fanIn] = entry.shape as [number, number];
    for (const [name, shape] of [
      [adapters[i]!.a, [2, fanIn]],
      [adapters[i]!.b, [out, 2]],
    ] as const) {
      const size = shape[0] * shape[1];
      layout.push({ name, shape: [...shape], offset, size });
      parts.push(values(size));
      offset += size;
    }
  });
  const params = new Float32Array(offset);
  parts.reduce((at, p) => (params.set(p, at), at + p.length), 0);
  const settings = { ...presetSettings('quick'), steps: step, checkpointEvery: step };
  const meta = { format: 'dreambooth-studio-checkpoint', version: 1, step, settings, dataHash: 'e2e', sampler: {}, layout, adapters, identifierRows: [] };
  const tensors = new Map<string, Float32Tensor>(
    [STATE.params, STATE.m, STATE.v].map((n) => [n, { shape: [offset], data: n === STATE.params ? params : new Float32Array(offset) }]),
  );
  const file = writeSafetensors(tensors, { metadata: { format: 'pt', dreambooth_studio: JSON.stringify(meta) } });
  const info: CheckpointInfo = {
    id: `e2e-step${step}`,
    subjectId: subject.id,
    runId: 'e2e',
    step,
    totalSteps: step,
    bytes: file.byteLength,
    weightBytes: offset * 4,
    createdAt: Date.now(),
    loss: 0.1,
    settings,
    identifier: subject.identifier,
    classNoun: subject.classNoun,
    baseModelId: 'builtin',
  };
  await page.evaluate(
    async ({ info, base64 }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open('dreambooth-studio');
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const tx = db.transaction('records', 'readwrite');
      const records = tx.objectStore('records');
      records.put(new Blob([bytes]), `ckpt/${info.id}/state`);
      records.put({ checkpoints: [{ info, parts: [{ name: 'state', bytes: bytes.byteLength }] }] }, `training/${info.subjectId}`);
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    },
    { info, base64: Buffer.from(file).toString('base64') },
  );
  return info;
}
