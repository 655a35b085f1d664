/**
 * Backend failures in plain words. onnxruntime-web and WebGPU throw texts written for developers ("no available
 * backend found. ERR: [webgpu] Error: Failed to get GPU adapter…"); people see these sentences, and the raw text
 * only behind a "Technical detail" disclosure.
 */
export interface BackendErrorText {
  /** What went wrong. */
  reason: string;
  /** What the person can do about it. */
  fix: string;
}

const RULES: readonly { test: RegExp; text: BackendErrorText }[] = [
  {
    test: /out of memory|allocat|exceeds the maximum|too large/i,
    text: {
      reason: 'The device ran out of memory.',
      fix: 'Make fewer images at once (they are denoised together), close other GPU-heavy tabs, and try again.',
    },
  },
  {
    test: /device (was |is )?lost|lost the device/i,
    text: {
      reason: 'The graphics device stopped responding.',
      fix: 'Try again: the studio starts a fresh worker — or choose CPU in the backend setting.',
    },
  },
  {
    test: /gpu adapter|requestAdapter|navigator\.gpu|webgpu.*(unavailable|not supported|cannot run)|\[webgpu\]|no available backend/i,
    text: {
      reason: 'The graphics card (WebGPU) could not be used in this browser.',
      fix: 'Choose CPU or Auto in the backend setting; the CPU path works everywhere.',
    },
  },
  {
    test: /wasm|webassembly|sharedarraybuffer|cross-origin/i,
    text: {
      reason: 'The CPU engine (WebAssembly) could not start.',
      fix: 'Reload the page. If it keeps failing, this browser may block WebAssembly threads here.',
    },
  },
];

/** Plain words for a backend failure, or null when the text is not one the studio recognises. */
export function explainBackendError(raw: string): BackendErrorText | null {
  return RULES.find((rule) => rule.test.test(raw))?.text ?? null;
}
