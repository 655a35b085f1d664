/**
 * The networks `npm run bench:train` measures, built the same way in Node and in the browser harness:
 * the reference block (src/engine/runtime/testing/referenceBlock.ts) and the built-in UNet
 * (models/builtin/unet/config.json, seeded weights) with LoRA on its attention projections.
 */
import unetConfigJson from '../models/builtin/unet/config.json';
import type { GraphBuilder, Tensor } from '../src/engine/graph';
import { applyLora } from '../src/engine/lora/lora';
import { weightedMse } from '../src/engine/optim/loss';
import { compileTrainStep, type CompiledProgram } from '../src/engine/optim/trainStep';
import { BENCH_BLOCK, TINY_BLOCK, referenceBatch, referenceBlock } from '../src/engine/runtime/testing/referenceBlock';
import { parseUNetConfig } from '../src/model/config';
import { buildUNetGraph } from '../src/model/graphs';
import { perParameterStep } from './per-parameter-step';

export type NetworkName = 'tiny' | 'reference' | 'unet';
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
  /** Feeds for step t (fixed batch, lr 3e-3, clipping at 1 when compiled). */
  readonly feeds: (t: number) => Record<string, Float32Array | number>;
}

/** diffusers' usual LoRA targets in a UNet: every attention projection. */
export const UNET_LORA_TARGET = /attn[12]\.to_(q|k|v|out\.0)\.weight$/;
/** Batch size of the UNet train step. */
export const UNET_BATCH = 2;

interface LossGraph {
  graph: GraphBuilder;
  loss: Tensor;
  batch: Record<string, Float32Array>;
  description: string;
}

export function buildStep(network: NetworkName, optimizer: OptimizerLayout = 'flat'): BenchStep {
  const net = network === 'unet' ? unetLossGraph() : blockLossGraph(network);
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
    feeds: (t) => ({ ...net.batch, lr: 3e-3, step: t, ...(clip ? { max_grad_norm: 1 } : {}) }),
  };
}

function blockLossGraph(network: 'tiny' | 'reference'): LossGraph {
  const cfg = { ...(network === 'tiny' ? TINY_BLOCK : BENCH_BLOCK), trainNonAttention: true };
  const block = referenceBlock(cfg);
  return {
    graph: block.graph,
    loss: block.loss,
    batch: referenceBatch(cfg),
    description: `conv→GroupNorm→SiLU→strided conv→self-attention (LoRA r=${cfg.rank})→conv; B=${cfg.batch}, ${cfg.channels} channels, ${cfg.size}×${cfg.size}; convs, norm and LoRA train`,
  };
}

function unetLossGraph(): LossGraph {
  const config = parseUNetConfig(unetConfigJson);
  const unet = buildUNetGraph(config, { kind: 'seeded', seed: 1 }, { batch: UNET_BATCH });
  const g = unet.graph;
  const out = g.outputs[0]!;
  const target = g.input('target', 'float32', out.shape);
  const loss = weightedMse(g, out, target, g.input('sample_weight', 'float32', [UNET_BATCH]));
  const lora = applyLora(g, { target: UNET_LORA_TARGET, rank: 4, alpha: 4 });
  const sizeOf = (name: string) => g.inputs.find((t) => t.name === name)!.size;
  const wave = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
  return {
    graph: lora.graph,
    loss: lora.map(loss),
    batch: {
      sample: wave(sizeOf('sample'), 1),
      timestep: Float32Array.from({ length: UNET_BATCH }, (_, i) => 100 + 400 * i),
      encoder_hidden_states: wave(sizeOf('encoder_hidden_states'), 2),
      target: wave(target.size, 3),
      sample_weight: new Float32Array(UNET_BATCH).fill(1 / UNET_BATCH),
    },
    description: `built-in UNet2DConditionModel (block_out_channels [${config.block_out_channels}], ${config.sample_size}×${config.sample_size}×${config.in_channels} latents, 77 text tokens), LoRA r=4 on ${lora.adapters.length} attention projections; B=${UNET_BATCH}`,
  };
}
