import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-web';
import type { BackendReport, ExecutionProvider } from './backend';
import { EngineDevice } from './engineDevice';
import { createStorageBuffer, readBuffer, releaseGpuTensor, writeBuffer } from './gpuBuffers';
import type { Ort, OrtFlavor } from './ort';
import { sessionOptions } from './sessionOptions';

/** What the runtime needs to know about a compiled program (src/engine/optim's CompiledProgram fits). */
export interface RuntimeProgram {
  readonly name: string;
  readonly model: Uint8Array;
  readonly feeds: readonly { readonly name: string; readonly dtype: string; readonly shape: readonly number[] }[];
  /** State inputs, each with the output that replaces it after a run (null: read only). */
  readonly state: readonly { readonly name: string; readonly output: string | null }[];
  /** Outputs returned to the CPU after each run. */
  readonly readback: readonly string[];
}

export interface ProgramRuntimeOptions {
  ep: ExecutionProvider;
  programs: readonly RuntimeProgram[];
  /**
   * Initial value of every state tensor (float32, in the shape the programs declare), by name; a tensor is another
   * runtime's shared state, borrowed from the start (see {@link ProgramRuntime.borrowState}).
   */
  state: Readonly<Record<string, Float32Array | OrtTensor>>;
  /** The device to run on (default: the realm's EngineDevice for `ep`), e.g. a generation backend's. */
  engine?: EngineDevice;
  /**
   * CPU threads. wasm: see {@link configureWasmThreads} (default 1 in Node, onnxruntime's choice in browsers);
   * cpu (onnxruntime-node): default every core.
   */
  threads?: number;
  /**
   * WebGPU only. 'gpu': per-run feeds are written into buffers the runtime keeps (one writeBuffer
   * each) instead of onnxruntime uploading fresh tensors; 'capture': additionally every input and
   * output lives in a fixed buffer and sessions use `enableGraphCapture` (commands recorded once,
   * replayed each run), with updated state copied back into the input buffers on the GPU.
   * Default 'ort'.
   */
  io?: 'ort' | 'gpu' | 'capture';
  /**
   * State other runtimes read in place ({@link borrowState}): each is kept in one buffer (one array on CPU backends)
   * for the runtime's life, each run's update copied into it, so a borrower's reference never goes stale and a
   * captured borrower stays bound to it.
   */
  shared?: readonly string[];
  /** Which onnxruntime-web build to load (Node with Dawn needs 'node-webgpu'); ep 'cpu' always loads onnxruntime-node. */
  ortFlavor?: OrtFlavor;
  /**
   * ep 'cpu' only: onnxruntime's profiler records every node of every run into
   * `<profileFilePrefix>_<timestamp>.json` (chrome-trace events), written by {@link endProfiling}.
   */
  profileFilePrefix?: string;
}

/** A per-run feed: a typed array with the program's declared shape, or a number for a scalar. */
export type Feed = Float32Array | Int32Array | BigInt64Array | Uint8Array | number;

/** Bytes per element of the feed types io 'gpu' / 'capture' keep in fixed GPU buffers (int64 as onnxruntime-web stores it: 8 bytes). */
const FIXED_BUFFER_BYTES = { float32: 4, int32: 4, int64: 8 } as const;

interface Slot {
  tensor: OrtTensor;
  /** Buffer the runtime created (and must destroy); ORT-owned outputs are released with tensor.dispose(). */
  owned?: GPUBuffer;
  /** Another runtime's shared state, read in place: never released or written here. */
  borrowed?: boolean;
}

interface Session {
  readonly program: RuntimeProgram;
  readonly session: InferenceSession;
  /** io 'gpu' / 'capture': fixed buffers for feeds; 'capture': fixed output tensors too. */
  readonly fixedFeeds?: Map<string, { buffer: GPUBuffer; tensor: OrtTensor }>;
  readonly fixedOutputs?: Map<string, { buffer: GPUBuffer; tensor: OrtTensor; bytes: number }>;
}

/**
 * The engine's one program runtime: owns the sessions of compiled programs and their state — a training step's
 * trainable parameters, optimizer moments and accumulators, or the denoise loop's latents. On WebGPU the state never leaves the GPU between runs: updated
 * state outputs are requested as 'gpu-buffer' tensors and fed straight back, and the previous ones
 * are disposed; only the small readback outputs (the loss) reach the CPU. On wasm the same programs
 * run on CPU tensors. {@link backend} reports what really ran: a WebGPU runtime requests the webgpu EP
 * alone (so a missing adapter is an error, not a silent wasm fallback) and checks that its state
 * outputs come back as GPU buffers.
 */
export class ProgramRuntime {
  private readonly sessions = new Map<string, Session>();
  private readonly state = new Map<string, Slot>();
  private readonly stateDims = new Map<string, readonly number[]>();
  private disposed = false;
  /** 'capture': whether the sessions have recorded their commands, bound to the state buffers of that run. */
  private captured = false;
  private readonly shared: ReadonlySet<string>;
  readonly ort: Ort;
  readonly backend: BackendReport;
  private readonly device: GPUDevice | null;

  private constructor(
    private readonly engine: EngineDevice,
    private readonly io: 'ort' | 'gpu' | 'capture',
    shared: readonly string[],
  ) {
    this.shared = new Set(shared);
    this.ort = engine.ort;
    this.backend = engine.report;
    this.device = engine.gpu;
  }

  static async create(opts: ProgramRuntimeOptions): Promise<ProgramRuntime> {
    const io = opts.io ?? 'ort';
    if (opts.ep !== 'webgpu' && io !== 'ort') throw new Error(`ProgramRuntime: io '${io}' needs the webgpu EP`);
    if (opts.programs.length === 0) throw new Error('ProgramRuntime: no programs');
    if (opts.profileFilePrefix !== undefined && opts.ep !== 'cpu') throw new Error("ProgramRuntime: profiling needs ep 'cpu'");
    for (const p of opts.programs) {
      for (const s of p.state) if (!opts.state[s.name]) throw new Error(`ProgramRuntime: program ${p.name} reads state ${s.name}, which has no initial value`);
    }
    for (const name of opts.shared ?? []) if (!opts.state[name]) throw new Error(`ProgramRuntime: shared state ${name} is not a state`);
    const engine =
      opts.engine ??
      (await EngineDevice.open({
        ep: opts.ep,
        ...(opts.ortFlavor ? { ortFlavor: opts.ortFlavor } : {}),
        ...(opts.threads ? { threads: opts.threads } : {}),
      }));
    if (engine.ep !== opts.ep) throw new Error(`ProgramRuntime: ep ${opts.ep} asked for on a ${engine.ep} device`);
    const sessions: Session[] = [];
    for (const p of opts.programs) {
      const gpuOutputs = p.state.flatMap((s) => (s.output ? [s.output] : []));
      const options = sessionOptions(opts.ep, { capture: io === 'capture', gpuOutputs, threads: engine.threads });
      if (opts.profileFilePrefix !== undefined) Object.assign(options, { enableProfiling: true, profileFilePrefix: opts.profileFilePrefix });
      sessions.push({ program: p, session: await engine.createSession(p.model, options) });
    }
    const rt = new ProgramRuntime(engine, io, opts.shared ?? []);
    for (const s of sessions) {
      rt.sessions.set(s.program.name, io === 'ort' ? s : rt.withFixedBuffers(s));
      // State tensors take the shape their program declares (flat parameter vectors, or e.g. [B, C, H, W] latents).
      for (const st of s.program.state) {
        const meta = s.session.inputMetadata[s.session.inputNames.indexOf(st.name)];
        if (meta?.isTensor && meta.shape.every((d) => typeof d === 'number')) rt.stateDims.set(st.name, meta.shape as number[]);
      }
    }
    const arrays: Record<string, Float32Array> = {};
    const borrowed: Record<string, OrtTensor> = {};
    for (const [name, v] of Object.entries(opts.state)) {
      if (v instanceof Float32Array) arrays[name] = v;
      else borrowed[name] = v;
    }
    try {
      rt.setState(arrays);
      for (const [name, t] of Object.entries(borrowed)) rt.borrowState(name, t);
    } catch (error) {
      await rt.dispose();
      throw error;
    }
    return rt;
  }

  /** Names of the state tensors. */
  get stateNames(): string[] {
    return [...this.state.keys()];
  }

  /**
   * Runs one program: feeds the current state and `feeds`, replaces updated state with the
   * program's outputs (kept where they are: GPU on webgpu), and returns the readback outputs.
   */
  async run(programName: string, feeds: Readonly<Record<string, Feed>>): Promise<Record<string, Float32Array>> {
    if (this.disposed) throw new Error('ProgramRuntime: already disposed');
    const s = this.sessions.get(programName);
    if (!s) throw new Error(`ProgramRuntime: no program ${programName} (have ${[...this.sessions.keys()].join(', ')})`);
    const { program } = s;
    const inputs: Record<string, OrtTensor> = {};
    for (const st of program.state) inputs[st.name] = this.state.get(st.name)!.tensor;
    for (const f of program.feeds) {
      const v = feeds[f.name];
      if (v === undefined) throw new Error(`ProgramRuntime: ${program.name} needs feed ${f.name} [${f.shape}]`);
      const data = typeof v === 'number' ? new Float32Array([v]) : v;
      const want = f.shape.reduce((a, b) => a * b, 1);
      if (data.length !== want) throw new Error(`ProgramRuntime: feed ${f.name} has ${data.length} values, expected ${want} for [${f.shape}]`);
      const fixed = s.fixedFeeds?.get(f.name);
      if (fixed) {
        writeBuffer(this.device!, fixed.buffer, data);
        inputs[f.name] = fixed.tensor;
      } else inputs[f.name] = new this.ort.Tensor(f.dtype as 'float32', data as Float32Array, [...f.shape]);
    }
    for (const name of Object.keys(feeds)) {
      if (!program.feeds.some((f) => f.name === name)) throw new Error(`ProgramRuntime: ${program.name} has no feed ${name}`);
    }

    if (s.fixedOutputs) return this.runCaptured(s, inputs);
    const outputs = await s.session.run(inputs);
    // Every check and readback happens before any state is replaced: a failed run leaves the state as it was
    // and frees all of its outputs.
    const out: Record<string, Float32Array> = {};
    try {
      this.throwGpuErrors(program.name);
      for (const st of program.state) {
        if (!st.output) continue;
        const next = outputs[st.output];
        if (!next) throw new Error(`ProgramRuntime: ${program.name} did not return ${st.output}`);
        if (this.device && next.location !== 'gpu-buffer') {
          throw new Error(`ProgramRuntime: ${st.output} came back on '${next.location}', not 'gpu-buffer': the webgpu EP did not run this program`);
        }
      }
      for (const r of program.readback) {
        const t = outputs[r];
        if (!t) throw new Error(`ProgramRuntime: ${program.name} did not return ${r}`);
        out[r] = (await this.unlessLost(t.getData())) as Float32Array;
      }
    } catch (e) {
      for (const t of Object.values(outputs)) releaseGpuTensor(t);
      throw e;
    }
    // Outputs that became state, or were copied into it and freed already.
    const kept = new Set<string>();
    for (const st of program.state) {
      if (!st.output) continue;
      if (this.shared.has(st.name)) this.copyInto(this.state.get(st.name)!, outputs[st.output]!);
      else this.replace(st.name, { tensor: outputs[st.output]! });
      kept.add(st.output);
    }
    for (const [name, t] of Object.entries(outputs)) if (!kept.has(name)) releaseGpuTensor(t);
    return out;
  }

  /** Copies state tensors (default: all, for checkpoints) to the CPU. The GPU copies stay in place. */
  async exportState(names: readonly string[] = this.stateNames): Promise<Record<string, Float32Array>> {
    const out: Record<string, Float32Array> = {};
    for (const name of names) {
      const slot = this.state.get(name);
      if (!slot) throw new Error(`exportState: unknown state ${name} (have ${this.stateNames.join(', ')})`);
      const t = slot.tensor;
      out[name] =
        t.location === 'gpu-buffer'
          ? new Float32Array(await this.unlessLost(readBuffer(this.device!, t.gpuBuffer as GPUBuffer, t.size * 4)))
          : (t.data as Float32Array).slice();
    }
    return out;
  }

  /**
   * The live tensor of a state (on the GPU on webgpu), to feed another session without a copy: valid until the next
   * run, importState or dispose; a shared state's (see {@link ProgramRuntimeOptions.shared}) until dispose.
   */
  stateTensor(name: string): OrtTensor {
    const slot = this.state.get(name);
    if (!slot) throw new Error(`stateTensor: unknown state ${name} (have ${this.stateNames.join(', ')})`);
    return slot.tensor;
  }

  /** Replaces state tensors (e.g. from a checkpoint); each must keep its length. */
  importState(values: Readonly<Record<string, Float32Array>>): void {
    for (const [name, v] of Object.entries(values)) {
      const cur = this.state.get(name);
      if (!cur) throw new Error(`importState: unknown state ${name} (have ${this.stateNames.join(', ')})`);
      if (v.length !== cur.tensor.size) throw new Error(`importState: ${name} has ${v.length} values, expected ${cur.tensor.size}`);
    }
    this.setState(values);
  }

  /**
   * Reads a state from another runtime's shared state tensor (see {@link ProgramRuntimeOptions.shared}) on the same
   * device, in place: no copy, and later updates there are seen here. The lender must outlive this runtime's use.
   * Borrowing the tensor already borrowed does nothing.
   */
  borrowState(name: string, from: OrtTensor): void {
    const cur = this.state.get(name);
    if (cur?.tensor === from) return;
    const programs = [...this.sessions.values()].map((x) => x.program);
    if (!programs.some((p) => p.state.some((st) => st.name === name))) throw new Error(`borrowState: no program reads a state ${name}`);
    const size = cur?.tensor.size ?? this.stateDims.get(name)?.reduce((a, b) => a * b, 1);
    if (size !== undefined && from.size !== size) throw new Error(`borrowState: ${name} has ${size} values, the source ${from.size}`);
    const writer = programs.find((p) => p.state.some((st) => st.name === name && st.output));
    if (writer) throw new Error(`borrowState: ${writer.name} updates ${name}; only state no program writes can be borrowed`);
    if (this.device && from.location !== 'gpu-buffer') throw new Error(`borrowState: ${name} is on '${from.location}', not on this runtime's GPU`);
    this.replace(name, { tensor: from, borrowed: true });
  }

  /** Ends profiling (see {@link ProgramRuntimeOptions.profileFilePrefix}): each session writes its trace file. */
  endProfiling(): void {
    for (const s of this.sessions.values()) s.session.endProfiling();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.sessions.values()) {
      await s.session.release();
      for (const f of s.fixedFeeds?.values() ?? []) f.buffer.destroy();
      for (const f of s.fixedOutputs?.values() ?? []) f.buffer.destroy();
    }
    for (const name of [...this.state.keys()]) this.release(name);
  }

  // ------------------------------------------------------------------ internals

  private setState(values: Readonly<Record<string, Float32Array>>): void {
    for (const [name, data] of Object.entries(values)) {
      const prev = this.state.get(name);
      if (prev && !prev.borrowed && (this.shared.has(name) || (this.io === 'capture' && prev.owned))) {
        // Borrowers and captured sessions are bound to this very buffer (array): overwrite in place.
        if (prev.owned) writeBuffer(this.device!, prev.owned, data);
        else (prev.tensor.data as Float32Array).set(data);
        continue;
      }
      this.assertMovable(name);
      const dims = [...(this.stateDims.get(name) ?? [data.length])];
      if (this.device) {
        const buffer = createStorageBuffer(this.device, data, name);
        this.replace(name, { tensor: this.ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims }), owned: buffer });
      } else this.replace(name, { tensor: new this.ort.Tensor('float32', data.slice(), dims) });
    }
  }

  private replace(name: string, slot: Slot): void {
    this.assertMovable(name);
    this.release(name);
    this.state.set(name, slot);
  }

  /** A replay would still read the buffer it recorded; checked before anything is allocated for the new one. */
  private assertMovable(name: string): void {
    if (this.captured) throw new Error(`ProgramRuntime: ${name} cannot move to another buffer once the captured sessions have run`);
  }

  /** A shared state's update: copied into its buffer (array), the output freed. */
  private copyInto(slot: Slot, next: OrtTensor): void {
    if (slot.owned) {
      const enc = this.device!.createCommandEncoder();
      enc.copyBufferToBuffer(next.gpuBuffer as GPUBuffer, 0, slot.owned, 0, slot.tensor.size * 4);
      this.device!.queue.submit([enc.finish()]);
      releaseGpuTensor(next);
    } else (slot.tensor.data as Float32Array).set(next.data as Float32Array);
  }

  private release(name: string): void {
    const old = this.state.get(name);
    if (!old) return;
    this.state.delete(name);
    if (!old.borrowed) releaseGpuTensor(old.tensor, old.owned);
  }

  /** io 'gpu' / 'capture': fixed buffers for feeds (and for 'capture', outputs). */
  private withFixedBuffers(s: Session): Session {
    const device = this.device!;
    const fixed = (name: string, shape: readonly number[], dtype: string) => {
      const size = FIXED_BUFFER_BYTES[dtype as keyof typeof FIXED_BUFFER_BYTES];
      if (!size) throw new Error(`ProgramRuntime: io '${this.io}' supports float32, int32 and int64 feeds only (${name} is ${dtype})`);
      const bytes = shape.reduce((a, b) => a * b, 1) * size;
      const buffer = createStorageBuffer(device, bytes, name);
      return { buffer, bytes, tensor: this.ort.Tensor.fromGpuBuffer(buffer, { dataType: dtype as 'float32', dims: [...shape] }) };
    };
    const fixedFeeds = new Map(s.program.feeds.map((f) => [f.name, fixed(f.name, f.shape, f.dtype)]));
    if (this.io !== 'capture') return { ...s, fixedFeeds };
    const shapes = new Map<string, readonly number[]>();
    for (const [i, name] of s.session.outputNames.entries()) {
      const meta = s.session.outputMetadata[i];
      if (!meta || !meta.isTensor) throw new Error(`ProgramRuntime: output ${name} is not a tensor`);
      shapes.set(
        name,
        meta.shape.map((d) => (typeof d === 'number' ? d : NaN)),
      );
    }
    const fixedOutputs = new Map([...shapes].map(([name, shape]) => [name, fixed(name, shape, 'float32')]));
    return { ...s, fixedFeeds, fixedOutputs };
  }

  /** A captured run: outputs land in fixed buffers; updated state is copied into the state buffers on the GPU. */
  private async runCaptured(s: Session, inputs: Record<string, OrtTensor>): Promise<Record<string, Float32Array>> {
    const device = this.device!;
    const fetches: Record<string, OrtTensor> = {};
    for (const [name, o] of s.fixedOutputs!) fetches[name] = o.tensor;
    await s.session.run(inputs, fetches);
    this.captured = true;
    this.throwGpuErrors(s.program.name);
    const enc = device.createCommandEncoder();
    for (const st of s.program.state) {
      if (!st.output) continue;
      const from = s.fixedOutputs!.get(st.output)!;
      enc.copyBufferToBuffer(from.buffer, 0, this.state.get(st.name)!.owned!, 0, from.bytes);
    }
    device.queue.submit([enc.finish()]);
    const out: Record<string, Float32Array> = {};
    for (const r of s.program.readback) {
      const o = s.fixedOutputs!.get(r)!;
      out[r] = new Float32Array(await this.unlessLost(readBuffer(device, o.buffer, o.bytes)));
    }
    return out;
  }

  /** GPU work, or an error once the device is lost: onnxruntime's own promises never settle then. */
  private unlessLost<T>(work: Promise<T>): Promise<T> {
    return this.engine.unlessLost(work);
  }

  private throwGpuErrors(program: string): void {
    this.engine.throwGpuErrors(program);
  }
}
