/**
 * Where onnxruntime-web puts a session's nodes, read from its verbose log at session creation
 * (e2e/harness/model.ts for inference graphs, e2e/harness/engine.ts for train steps). Importing this
 * module routes the page's console through a filter.
 */
/** Where onnxruntime put the graph's nodes, from its verbose session log. */
export interface Placement {
  /** Node count per execution provider (JsExecutionProvider is the WebGPU EP). */
  nodesPerProvider: Record<string, number>;
  /** `Op (node name)` of every node placed on another provider than WebGPU. */
  offWebGpu: string[];
}

// onnxruntime prints its C++ log through the console. Keep the node-placement lines it writes at
// session creation (logSeverityLevel 0) and hold back the rest of the verbose and info chatter.
const placementLog: string[] = [];
for (const level of ['log', 'info', 'warn', 'error'] as const) {
  const print = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    const line = typeof args[0] === 'string' ? args[0] : '';
    if (line.includes('VerifyEachNodeIsAssignedToAnEp]')) placementLog.push(line);
    if (/\[[VI]:onnxruntime:/.test(line)) return;
    print(...args);
  };
}

/**
 * Parses session_state.cc's "Node placements" block: either `All nodes placed on [EP]. Number of
 * nodes: N`, or per EP ` Node(s) placed on [EP]. Number of nodes: N` followed by `  Op (name)` lines.
 */
function parsePlacement(lines: readonly string[]): Placement {
  const nodesPerProvider: Record<string, number> = {};
  const offWebGpu: string[] = [];
  let provider = '';
  for (const line of lines) {
    const text = line.slice(line.indexOf('VerifyEachNodeIsAssignedToAnEp]') + 'VerifyEachNodeIsAssignedToAnEp]'.length);
    const header = /placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(text);
    if (header) {
      provider = header[1]!;
      nodesPerProvider[provider] = Number(header[2]);
    } else if (/^ {3}\S/.test(text) && provider !== 'JsExecutionProvider') {
      offWebGpu.push(`${text.trim()} on ${provider}`);
    }
  }
  if (Object.keys(nodesPerProvider).length === 0) throw new Error(`no node placement in onnxruntime's log (${lines.length} lines)`);
  return { nodesPerProvider, offWebGpu };
}

/** Runs `create` (an InferenceSession.create with logSeverityLevel 0) and returns where it placed the nodes. */
export async function capturePlacement<T>(create: () => Promise<T>): Promise<{ value: T; placement: Placement }> {
  placementLog.length = 0;
  const value = await create();
  return { value, placement: parsePlacement(placementLog) };
}
