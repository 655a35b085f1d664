import { readFileSync } from 'node:fs';
import type { CheckpointInfo } from '../../src/dreambooth/jobTypes';
import { loraCheckpointFile } from '../../src/dreambooth/testing/loraCheckpointFile';
import { parseSafetensors } from '../../src/model/safetensors';
import type { Page } from './fixtures';

/**
 * A LoRA checkpoint of the built-in model (src/dreambooth/testing/loraCheckpointFile.ts) written straight into the
 * page's IndexedDB as `saveCheckpoint` lists it — a trained checkpoint in a moment, where a real run on a busy 2-core
 * machine takes minutes. Everything after it (export, import, sampling) runs the studio's own jobs.
 */
export async function storeLoraCheckpoint(page: Page, subject: { id: string; identifier: string; classNoun: string }, step: number): Promise<CheckpointInfo> {
  const header = parseSafetensors(readFileSync(new URL('../../models/builtin/unet/diffusion_pytorch_model.safetensors', import.meta.url)));
  const { file, settings, weightBytes } = loraCheckpointFile(header.entries, step);
  const info: CheckpointInfo = {
    id: `e2e-step${step}`,
    subjectId: subject.id,
    runId: 'e2e',
    step,
    totalSteps: step,
    bytes: file.byteLength,
    weightBytes,
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
