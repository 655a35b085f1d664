/**
 * The networks the benchmarks measure, built the same way in Node and in the browser harness:
 * the reference block (src/engine/runtime/testing/referenceBlock.ts), the built-in UNet
 * (models/builtin/unet/config.json, seeded weights) with LoRA on its attention projections, and the
 * built-in UNet and VAE with all weights training (`unet-full`, `vae`; also bench/convGrad.ts's steps).
 */
import unetConfigJson from '../models/builtin/unet/config.json';
import vaeConfigJson from '../models/builtin/vae/config.json';
import { GraphBuilder, type Tensor } from '../src/engine/graph';
import { matmulFlops } from '../src/engine/graph/flops';
import { applyLora } from '../src/engine/lora/lora';
import { weightedMse } from '../src/engine/optim/loss';
import { compileTrainStep, type CompiledProgram } from '../src/engine/optim/trainStep';
import { BENCH_BLOCK, TINY_BLOCK, referenceBatch, referenceBlock } from '../src/engine/runtime/testing/referenceBlock';
import { parseUNetConfig, parseVAEConfig } from '../src/model/config';
import { buildUNetGraph } from '../src/model/graphs';
import { ModelParams } from '../src/model/params';
import { unetForward } from '../src/model/unet';
import { vaeDecode, vaeEncode } from '../src/model/vae';
import { perParameterStep } from './per-parameter-step';

/** 'unet' = LoRA on the built-in UNet; 'unet-full' / 'vae' = every weight trains. */
export type NetworkName = 'tiny' | 'reference' | 'unet' | 'unet-full' | 'vae';
export const NETWORKS: readonly NetworkName[] = ['tiny', 'reference', 'unet', 'unet-full', 'vae'];
/** 'flat': compileTrainStep (the product); 'per-parameter': the baseline with one AdamW per parameter. */
export type OptimizerLayout = 'flat' | 'per-parameter';

export interface BenchStep {
  readonly network: NetworkName;
  readonly optimizer: OptimizerLayout;
  readonly description: string;
  readonly program: CompiledProgram;
  readonly initialState: Readonly<Record<string, Float32Array>>;
  /** Number of trainable values. */
  readonly trainable: number;
  /** Batch size. */
  readonly batch: number;
  /** FLOPs of one forward pass (Conv, ConvTranspose, Gemm, MatMul nodes; see matmulFlops). */
  readonly forwardFlops: number;
  /** Feeds for step t (fixed batch, lr 3e-3, clipping at 1 when compiled). */
  readonly feeds: (t: number) => Record<string, Float32Array | number>;
}

/** diffusers' usual LoRA targets in a UNet: every attention projection. */
export const UNET_LORA_TARGET = /attn[12]\.to_(q|k|v|out\.0)\.weight$/;
/** Batch size of the UNet LoRA train step. */
export const UNET_BATCH = 2;
/** Batch sizes of the all-weights steps (bench/convGrad.ts's too). */
export const UNET_FULL_BATCH = 32;
export const VAE_BATCH = 8;

/** A forward graph with its loss and a fixed batch, before compileTrainStep appends backward and optimizer. */
export interface LossGraph {
  graph: GraphBuilder;
  loss: Tensor;
  /** Feeds of the forward graph (sample, target, …). */
  feeds: Record<string, Float32Array>;
  batch: number;
  description: string;
}

export function lossGraph(network: NetworkName): LossGraph {
  switch (network) {
    case 'unet':
      return unetLoraLossGraph();
    case 'unet-full':
      return unetFullLossGraph(UNET_FULL_BATCH);
    case 'vae':
      return vaeLossGraph(VAE_BATCH);
    default:
      return blockLossGraph(network);
  }
}

export function buildStep(network: NetworkName, optimizer: OptimizerLayout = 'flat'): BenchStep {
  const net = lossGraph(network);
  const forwardFlops = matmulFlops(net.graph.nodes).total;
  let program: CompiledProgram;
  let initialState: Readonly<Record<string, Float32Array>>;
  if (optimizer === 'flat') {
    const c = compileTrainStep(net.graph, net.loss, { adamw: { weightDecay: 0.01 } });
    [program, initialState] = [c.step, c.initialState];
  } else ({ program, initialState } = perParameterStep(net.graph, net.loss));
  const clip = program.feeds.some((f) => f.name === 'max_grad_norm');
  return {
    network,
    optimizer,
    description: net.description,
    program,
    initialState,
    trainable: net.graph.parameters('trainable').reduce((a, p) => a + p.tensor.size, 0),
    batch: net.batch,
    forwardFlops,
    feeds: (t) => ({ ...net.feeds, lr: 3e-3, step: t, ...(clip ? { max_grad_norm: 1 } : {}) }),
  };
}

function blockLossGraph(network: 'tiny' | 'reference'): LossGraph {
  const cfg = { ...(network === 'tiny' ? TINY_BLOCK : BENCH_BLOCK), trainNonAttention: true };
  const block = referenceBlock(cfg);
  return {
    graph: block.graph,
    loss: block.loss,
    feeds: referenceBatch(cfg),
    batch: cfg.batch,
    description: `conv→GroupNorm→SiLU→strided conv→self-attention (LoRA r=${cfg.rank})→conv; B=${cfg.batch}, ${cfg.channels} channels, ${cfg.size}×${cfg.size}; convs, norm and LoRA train`,
  };
}

const wave = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);

function unetLoraLossGraph(): LossGraph {
  const config = parseUNetConfig(unetConfigJson);
  const unet = buildUNetGraph(config, { kind: 'seeded', seed: 1 }, { batch: UNET_BATCH });
  const g = unet.graph;
  const out = g.outputs[0]!;
  const target = g.input('target', 'float32', out.shape);
  const loss = weightedMse(g, out, target, g.input('sample_weight', 'float32', [UNET_BATCH]));
  const lora = applyLora(g, { target: UNET_LORA_TARGET, rank: 4, alpha: 4 });
  const sizeOf = (name: string) => g.inputs.find((t) => t.name === name)!.size;
  return {
    graph: lora.graph,
    loss: lora.map(loss),
    batch: UNET_BATCH,
    feeds: {
      sample: wave(sizeOf('sample'), 1),
      timestep: Float32Array.from({ length: UNET_BATCH }, (_, i) => 100 + 400 * i),
      encoder_hidden_states: wave(sizeOf('encoder_hidden_states'), 2),
      target: wave(target.size, 3),
      sample_weight: new Float32Array(UNET_BATCH).fill(1 / UNET_BATCH),
    },
    description: `built-in UNet2DConditionModel (block_out_channels [${config.block_out_channels}], ${config.sample_size}×${config.sample_size}×${config.in_channels} latents, 77 text tokens), LoRA r=4 on ${lora.adapters.length} attention projections; B=${UNET_BATCH}`,
  };
}

/** The built-in VAE, encode → decode reconstruction of a 64×64 batch, every weight trains. */
export function vaeLossGraph(batch: number): LossGraph {
  const c = parseVAEConfig(vaeConfigJson);
  const g = new GraphBuilder('vae');
  const p = new ModelParams(g, { kind: 'seeded', seed: 1 }, { group: () => 'trainable' });
  const x = g.input('sample', 'float32', [batch, c.in_channels, c.sample_size, c.sample_size]);
  const rec = vaeDecode(p, c, vaeEncode(p, c, x).mean);
  const loss = weightedMse(g, rec, x, g.input('sample_weight', 'float32', [batch]));
  return {
    graph: g,
    loss,
    batch,
    feeds: { sample: wave(x.size, 1), sample_weight: new Float32Array(batch).fill(1 / batch) },
    description: `built-in AutoencoderKL (block_out_channels [${c.block_out_channels}]), encode→decode reconstruction of ${c.sample_size}×${c.sample_size} RGB, all weights train; B=${batch}`,
  };
}

/** The built-in UNet with every weight training (as pretraining runs it). */
export function unetFullLossGraph(batch: number): LossGraph {
  const c = parseUNetConfig(unetConfigJson);
  const g = new GraphBuilder('unet');
  const p = new ModelParams(g, { kind: 'seeded', seed: 1 }, { group: () => 'trainable' });
  const size = c.sample_size!;
  const sample = g.input('sample', 'float32', [batch, c.in_channels, size, size]);
  const timestep = g.input('timestep', 'float32', [batch]);
  const ehs = g.input('encoder_hidden_states', 'float32', [batch, 77, c.cross_attention_dim]);
  const out = unetForward(p, c, { sample, timestep, encoderHiddenStates: ehs });
  const target = g.input('target', 'float32', out.shape);
  const loss = weightedMse(g, out, target, g.input('sample_weight', 'float32', [batch]));
  return {
    graph: g,
    loss,
    batch,
    feeds: {
      sample: wave(sample.size, 1),
      timestep: Float32Array.from({ length: batch }, (_, i) => (37 * i) % 1000),
      encoder_hidden_states: wave(ehs.size, 2),
      target: wave(target.size, 3),
      sample_weight: new Float32Array(batch).fill(1 / batch),
    },
    description: `built-in UNet2DConditionModel (block_out_channels [${c.block_out_channels}]), all weights train; B=${batch}`,
  };
}
