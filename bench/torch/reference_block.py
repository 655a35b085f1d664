"""PyTorch eager twin of the engine's reference block (src/engine/runtime/testing/referenceBlock.ts).

Trains the same network from the same start as `npm run bench:train` and prints JSON: ms/step (median
of the steps after the warm-up) and the largest relative difference between its loss / grad-norm
trajectory and the one the TypeScript engine produced (onnxruntime-web wasm EP). The start comes
from `npx tsx bench/torch/export-reference.ts`, which writes <network>.safetensors: initial
parameters by name, the batch as input.*, and in the metadata the config, the trainable names, the
AdamW settings, the per-step learning rates and the TypeScript trajectory.

    python3 bench/torch/reference_block.py --device cpu|cuda [--network reference] [--file PATH] [--steps N]

Works with PyTorch 1.13 (Debian's python3-torch) and 2.x; needs nothing else.
"""
import argparse
import json
import math
import os
import statistics
import struct
import tempfile
import time

import torch
import torch.nn.functional as F
from torch import nn

WARMUP = 2


def read_safetensors(path):
    """Float32 tensors and metadata of a safetensors file (the format: u64 header size, JSON header, data)."""
    with open(path, 'rb') as f:
        raw = f.read()
    (size,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + size])
    metadata = header.pop('__metadata__', {})
    data = raw[8 + size:]
    tensors = {}
    for name, e in header.items():
        if e['dtype'] != 'F32':
            raise ValueError(f'{path}: tensor {name} is {e["dtype"]}, expected F32')
        begin, end = e['data_offsets']
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(e['shape'])
    return tensors, metadata


class LoraLinear(nn.Module):
    """nn.Linear with a peft-named LoRA adapter, merged on the weight side as the engine does: W + (alpha/r)·B·A."""

    def __init__(self, features, rank, alpha, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(features, features))
        self.bias = nn.Parameter(torch.empty(features)) if bias else None
        self.lora_A = nn.Linear(features, rank, bias=False)
        self.lora_B = nn.Linear(rank, features, bias=False)
        self.scale = alpha / rank

    def forward(self, x):
        merged = torch.addmm(self.weight, self.lora_B.weight, self.lora_A.weight, alpha=self.scale)
        return F.linear(x, merged, self.bias)


class Attention(nn.Module):
    """diffusers' self-attention names: to_q/k/v without bias, to_out.0 with one."""

    def __init__(self, c, heads, rank, alpha):
        super().__init__()
        self.heads = heads
        self.to_q = LoraLinear(c, rank, alpha, bias=False)
        self.to_k = LoraLinear(c, rank, alpha, bias=False)
        self.to_v = LoraLinear(c, rank, alpha, bias=False)
        self.to_out = nn.ModuleList([LoraLinear(c, rank, alpha, bias=True)])


class ReferenceBlock(nn.Module):
    """conv → GroupNorm → SiLU → strided conv → self-attention (LoRA) with residual → conv."""

    def __init__(self, cfg):
        super().__init__()
        cin, c = cfg['inChannels'], cfg['channels']
        self.conv_in = nn.Conv2d(cin, c, 3, padding=1)
        self.norm = nn.GroupNorm(cfg['groups'], c, eps=cfg['groupNormEpsilon'])
        self.conv_down = nn.Conv2d(c, c, 3, stride=2, padding=1)
        self.attn1 = Attention(c, cfg['heads'], cfg['rank'], cfg['loraAlpha'])
        self.conv_out = nn.Conv2d(c, cin, 3, padding=1)

    def forward(self, x):
        h = self.conv_down(F.silu(self.norm(self.conv_in(x))))
        b, c, hh, ww = h.shape
        heads, d, l = self.attn1.heads, c // self.attn1.heads, hh * ww
        tokens = h.permute(0, 2, 3, 1).reshape(b * l, c)  # token-major, as the engine's Gemms

        def split(t):
            return t.reshape(b, l, heads, d).transpose(1, 2)

        q = split(self.attn1.to_q(tokens) * (1 / math.sqrt(d)))
        k = split(self.attn1.to_k(tokens))
        v = split(self.attn1.to_v(tokens))
        attn = torch.softmax(q @ k.transpose(2, 3), dim=-1) @ v
        merged = attn.transpose(1, 2).reshape(b * l, c)
        out = tokens + self.attn1.to_out[0](merged)
        h = out.reshape(b, hh, ww, c).permute(0, 3, 1, 2)
        return self.conv_out(h)


def weighted_mse(pred, target, weights):
    """Σ_b w_b · mean((pred_b − target_b)²), the engine's weightedMse."""
    per_sample = ((pred - target) ** 2).mean(dim=tuple(range(1, pred.dim())))
    return (per_sample * weights).sum()


def trainable_by_construction(name, cfg):
    """The engine's rule: LoRA adapters train; the attention base weights are frozen; the rest trains with trainNonAttention."""
    if '.lora_' in name:
        return True
    if name.startswith('attn1.to_') and name.endswith('.weight'):
        return False
    return bool(cfg.get('trainNonAttention'))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--device', default='cpu', help='cpu or cuda (default cpu)')
    ap.add_argument('--network', default='reference', choices=['tiny', 'reference'])
    ap.add_argument('--file', help='exported start (default: <tempdir>/<network>.safetensors, export-reference.ts\'s default)')
    ap.add_argument('--steps', type=int, default=0, help='steps to run and time (default: as many as exported, at least 30)')
    ap.add_argument('--threads', type=int, default=0, help='CPU threads (default: PyTorch\'s choice)')
    ap.add_argument('--tf32', action='store_true', help='allow TF32 matmuls/convs on CUDA (off: float32 like the engine)')
    args = ap.parse_args()

    path = args.file or os.path.join(tempfile.gettempdir(), f'{args.network}.safetensors')
    tensors, metadata = read_safetensors(path)
    ref = json.loads(metadata['reference'])
    cfg = ref['config']
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = args.tf32
        torch.backends.cudnn.allow_tf32 = args.tf32

    model = ReferenceBlock(cfg)
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith('input.')}, strict=True)
    for name, p in model.named_parameters():
        p.requires_grad_(trainable_by_construction(name, cfg))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    if sorted(trainable) != sorted(ref['trainable']):
        raise SystemExit(f'trainable parameters differ from the engine: torch {sorted(trainable)} vs engine {sorted(ref["trainable"])}')
    model.to(device)
    x, target, weights = (tensors[f'input.{k}'].to(device) for k in ('x', 'target', 'sample_weight'))

    a = ref['adamw']
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=ref['lr'][0], betas=(a['beta1'], a['beta2']), eps=a['eps'], weight_decay=a['weightDecay'])
    ts_losses, ts_norms = ref['losses'], ref['gradNorms']
    steps = args.steps or max(len(ts_losses), 30)
    losses, norms, times = [], [], []
    for t in range(steps):
        if device.type == 'cuda':
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for group in opt.param_groups:
            group['lr'] = ref['lr'][min(t, len(ref['lr']) - 1)]
        opt.zero_grad(set_to_none=True)
        loss = weighted_mse(model(x), target, weights)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, ref['maxGradNorm']) if ref['maxGradNorm'] is not None else None
        opt.step()
        losses.append(loss.item())  # the engine also reads [loss, grad norm] back every step
        norms.append(norm.item() if norm is not None else float('nan'))
        times.append((time.perf_counter() - t0) * 1000)

    n = min(len(ts_losses), steps)

    def max_rel(ours, theirs):
        return max(abs(o - e) / max(abs(e), 1e-12) for o, e in zip(ours[:n], theirs[:n]))

    timed = times[WARMUP:]
    print(json.dumps({
        'network': args.network,
        'device': str(device),
        'deviceName': torch.cuda.get_device_name(device) if device.type == 'cuda' else None,
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'tf32': args.tf32 if device.type == 'cuda' else None,
        'steps': steps,
        'warmup': WARMUP,
        'msPerStep': round(statistics.median(timed), 2),
        'msMin': round(min(timed), 2),
        'comparedSteps': n,
        'lossMaxRelDiff': max_rel(losses, ts_losses),
        'gradNormMaxRelDiff': max_rel(norms, ts_norms),
        'losses': losses[:n],
        'engineLosses': ts_losses[:n],
    }, indent=2))


if __name__ == '__main__':
    main()
