import { expect, test } from './support/fixtures';

// Issue 12, "Faults": the GPU device lost mid-run. The harness (e2e/harness/deviceLoss.ts) runs the studio's trainer on
// WebGPU with the micro UNet, saves a checkpoint to IndexedDB as the studio does, trains a step, destroys the device
// onnxruntime uses and trains again; then resumes the saved checkpoint on wasm.

test('GPU device lost mid-run → the step fails with the studio’s message, the checkpoint is intact and resumes on wasm', async ({ page }) => {
  test.setTimeout(120_000);
  const open = async () => {
    await page.goto('/e2e/harness/dreambooth.html');
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
  };
  await open();
  const run = await page.evaluate(() => window.dreamboothHarness.deviceLoss());
  expect(run.ep).toBe('webgpu');
  expect(run.lostReason).toBe('destroyed');
  // Not a hang, not a loss from a dead device: the studio's message naming the step and the checkpoint to resume from.
  expect(run.failure).toMatch(
    /^Training stopped after step 2: the GPU device was lost \(destroyed.*\)\. Nothing is lost beyond the last checkpoint; the checkpoint of step 1 is saved: Resume continues from it\.$/,
  );
  expect(run.failMs).toBeLessThan(5_000);
  // A generation session on the same device fails with the loss too, instead of never answering.
  expect(run.generationFailure).toMatch(/^the GPU device was lost \(destroyed/);
  // Both answer the page with 'device-lost', on which it replaces the worker (its onnxruntime would never finish a run
  // again), so Resume works without a reload (src/protocol/jobs.test.ts: RestartingJobClient).
  expect(run.codes).toEqual({ train: 'device-lost', generation: 'device-lost' });

  // A fresh page (as the restarted worker): the checkpoint is as saved, and resuming it on wasm trains step 2 again
  // with the loss the GPU had for it — the same weights, moments and noise stream.
  await open();
  const resumed = await page.evaluate(() => window.dreamboothHarness.resumeSaved());
  expect(resumed.savedStep).toBe(1);
  expect(resumed.savedSha).toBe(run.savedSha);
  expect(resumed.resumedAt).toBe(1);
  expect(Math.abs(resumed.resumedLoss - run.gpuLoss) / run.gpuLoss, `${resumed.resumedLoss} vs ${run.gpuLoss}`).toBeLessThan(1e-3);
});
