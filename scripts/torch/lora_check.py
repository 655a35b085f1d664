"""Loads a studio LoRA export into an independent PyTorch UNet2DConditionModel and compares outputs with the studio's.

The UNet here is written from diffusers' own module structure (unet_2d_condition.py, unet_2d_blocks.py, resnet.py,
transformer_2d.py, attention.py, embeddings.py) for the subset of configs the studio runs (DownBlock2D /
CrossAttnDownBlock2D, UNetMidBlock2DCrossAttn, CrossAttnUpBlock2D / UpBlock2D, conv proj_in/proj_out, GEGLU feed-forward),
and it loads diffusers' parameter names with strict=True, so every base weight and every LoRA target is addressed by the
name diffusers would use. LoRA is merged as peft's merge_and_unload / kohya's merge does: W + alpha/r · B·A, with
  peft:  unet.<module>.lora_A.weight (A) / .lora_B.weight (B), alpha = LoraConfig `unet.lora_alpha` (+ `alpha_pattern`)
         from the safetensors metadata key `lora_adapter_metadata` (diffusers loaders/lora_base.py), else alpha = r;
  kohya: lora_unet_<module with . → _>.lora_down.weight (A) / .lora_up.weight (B) / .alpha (sd-scripts networks/lora.py),
         the module found by matching the underscored name against the model's own module names.

    python3 scripts/torch/lora_check.py --folder DIR --lora FILE --io FILE
    python3 scripts/torch/lora_check.py --diffusers-reference fixtures/diffusers-tiny-sd

The second form checks this UNet itself against diffusers: it loads diffusers' tiny SD UNet (saved by save_pretrained)
and compares with the outputs diffusers computed (reference_io.json), printing {"max_abs_diff": …}.

DIR is a diffusers folder (unet/config.json, unet/diffusion_pytorch_model.safetensors); FILE --io holds input.sample,
input.timestep, input.encoder_hidden_states and studio.out_sample (the studio's output with the LoRA merged).
Prints JSON: max_abs_diff (studio vs PyTorch with the LoRA), lora_effect (max |with LoRA − without|, to show the
comparison is not blind to the LoRA), adapters, naming. Needs only PyTorch (works with Debian's 1.13).
"""
import argparse
import json
import math
import os
import struct

import torch
import torch.nn.functional as F
from torch import nn

DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'F64': torch.float64}


def read_safetensors(path):
    """Tensors (as float32) and metadata of a safetensors file: u64 header size, JSON header, raw data."""
    with open(path, 'rb') as f:
        raw = f.read()
    (size,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + size])
    metadata = header.pop('__metadata__', {})
    data = raw[8 + size:]
    tensors = {}
    for name, e in header.items():
        begin, end = e['data_offsets']
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[e['dtype']]) if end > begin else torch.zeros(0)
        tensors[name] = t.float().reshape(e['shape'])
    return tensors, metadata


# ------------------------------------------------------------------ UNet2DConditionModel (diffusers' structure)

def timestep_embedding(t, dim, flip_sin_to_cos, shift, max_period=10000):
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float32) / (half - shift)
    emb = t[:, None].float() * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    return torch.cat([emb[:, half:], emb[:, :half]], dim=-1) if flip_sin_to_cos else emb


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.linear_1 = nn.Linear(cin, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class Attention(nn.Module):
    def __init__(self, dim, heads, context_dim):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])

    def forward(self, x, context=None):
        context = x if context is None else context
        b, n, d = x.shape
        split = lambda t: t.reshape(b, -1, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.to_q(x)), split(self.to_k(context)), split(self.to_v(context))
        w = torch.softmax(q @ k.transpose(-1, -2) * (d // self.heads) ** -0.5, dim=-1)
        return self.to_out[0]((w @ v).transpose(1, 2).reshape(b, n, d))


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        h, gate = self.proj(x).chunk(2, dim=-1)
        return h * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, 4 * dim), nn.Dropout(0.0), nn.Linear(4 * dim, dim)])

    def forward(self, x):
        return self.net[2](self.net[0](x))


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, context_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, context_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class Transformer2DModel(nn.Module):
    def __init__(self, channels, heads, layers, context_dim, groups, linear):
        super().__init__()
        self.linear = linear
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, channels) if linear else nn.Conv2d(channels, channels, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(channels, heads, context_dim) for _ in range(layers)])
        self.proj_out = nn.Linear(channels, channels) if linear else nn.Conv2d(channels, channels, 1)

    def forward(self, x, context):
        b, c, h, w = x.shape
        y = self.norm(x)
        if not self.linear:
            y = self.proj_in(y)
        y = y.permute(0, 2, 3, 1).reshape(b, h * w, c)
        if self.linear:
            y = self.proj_in(y)
        for block in self.transformer_blocks:
            y = block(y, context)
        if self.linear:
            y = self.proj_out(y)
        y = y.reshape(b, h, w, c).permute(0, 3, 1, 2)
        if not self.linear:
            y = self.proj_out(y)
        return y + x


class Sampler(nn.Module):
    """Downsample2D (stride-2 conv) or Upsample2D (nearest ×2, then conv): diffusers keeps the conv as `.conv`."""

    def __init__(self, channels, down, padding=1):
        super().__init__()
        self.down = down
        self.conv = nn.Conv2d(channels, channels, 3, stride=2 if down else 1, padding=padding)

    def forward(self, x):
        return self.conv(x if self.down else F.interpolate(x, scale_factor=2.0, mode='nearest'))


class UNet2DConditionModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        boc = c['block_out_channels']
        n = len(boc)
        per_block = lambda v: v if isinstance(v, list) else [v] * n
        heads = per_block(c.get('attention_head_dim', 8))  # diffusers' name; it is the head count (num_attention_heads)
        layers = per_block(c.get('transformer_layers_per_block', 1))
        groups, eps, ctx = c.get('norm_num_groups', 32), c.get('norm_eps', 1e-5), c['cross_attention_dim']
        linear = c.get('use_linear_projection', False)
        lpb = c.get('layers_per_block', 2)
        temb = c.get('time_embedding_dim') or boc[0] * 4
        self.cfg = c
        self.conv_in = nn.Conv2d(c.get('in_channels', 4), boc[0], c.get('conv_in_kernel', 3), padding=c.get('conv_in_kernel', 3) // 2)
        self.time_embedding = TimestepEmbedding(boc[0], temb)
        self.down_blocks = nn.ModuleList()
        out = boc[0]
        for i, kind in enumerate(c['down_block_types']):
            cin, out = out, boc[i]
            block = nn.Module()
            block.resnets = nn.ModuleList([ResnetBlock2D(cin if j == 0 else out, out, temb, groups, eps) for j in range(lpb)])
            if kind == 'CrossAttnDownBlock2D':
                block.attentions = nn.ModuleList([Transformer2DModel(out, heads[i], layers[i], ctx, groups, linear) for _ in range(lpb)])
            if i < n - 1:
                block.downsamplers = nn.ModuleList([Sampler(out, True, c.get('downsample_padding', 1))])
            self.down_blocks.append(block)
        self.mid_block = nn.Module()
        self.mid_block.resnets = nn.ModuleList([ResnetBlock2D(boc[-1], boc[-1], temb, groups, eps) for _ in range(2)])
        self.mid_block.attentions = nn.ModuleList([Transformer2DModel(boc[-1], heads[-1], layers[-1], ctx, groups, linear)])
        self.up_blocks = nn.ModuleList()
        rev, rheads, rlayers = boc[::-1], heads[::-1], layers[::-1]
        out = rev[0]
        for i, kind in enumerate(c['up_block_types']):
            prev, out, cin = out, rev[i], rev[min(i + 1, n - 1)]
            block = nn.Module()
            block.resnets = nn.ModuleList([
                ResnetBlock2D((prev if j == 0 else out) + (cin if j == lpb else out), out, temb, groups, eps) for j in range(lpb + 1)
            ])
            if kind == 'CrossAttnUpBlock2D':
                block.attentions = nn.ModuleList([Transformer2DModel(out, rheads[i], rlayers[i], ctx, groups, linear) for _ in range(lpb + 1)])
            if i < n - 1:
                block.upsamplers = nn.ModuleList([Sampler(out, False)])
            self.up_blocks.append(block)
        self.conv_norm_out = nn.GroupNorm(groups, boc[0], eps=eps)
        self.conv_out = nn.Conv2d(boc[0], c.get('out_channels', 4), c.get('conv_out_kernel', 3), padding=c.get('conv_out_kernel', 3) // 2)

    def forward(self, sample, timestep, context):
        c = self.cfg
        temb = self.time_embedding(timestep_embedding(timestep, c['block_out_channels'][0], c.get('flip_sin_to_cos', True), c.get('freq_shift', 0)))
        h = self.conv_in(sample)
        skips = [h]
        for block in self.down_blocks:
            for j, resnet in enumerate(block.resnets):
                h = resnet(h, temb)
                if hasattr(block, 'attentions'):
                    h = block.attentions[j](h, context)
                skips.append(h)
            if hasattr(block, 'downsamplers'):
                h = block.downsamplers[0](h)
                skips.append(h)
        h = self.mid_block.resnets[0](h, temb)
        h = self.mid_block.attentions[0](h, context)
        h = self.mid_block.resnets[1](h, temb)
        for block in self.up_blocks:
            for j, resnet in enumerate(block.resnets):
                h = resnet(torch.cat([h, skips.pop()], dim=1), temb)
                if hasattr(block, 'attentions'):
                    h = block.attentions[j](h, context)
            if hasattr(block, 'upsamplers'):
                h = block.upsamplers[0](h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


# ------------------------------------------------------------------ LoRA

def lora_deltas(path, module_names):
    """{module path: (A, B, alpha)} from a peft- or kohya-named LoRA file."""
    tensors, metadata = read_safetensors(path)
    kohya = any(k.startswith('lora_unet_') for k in tensors)
    out = {}
    if kohya:
        by_kohya = {'lora_unet_' + m.replace('.', '_'): m for m in module_names}
        for key in tensors:
            stem, _, part = key.partition('.')
            if part == 'lora_down.weight':
                m = by_kohya[stem]
                out[m] = (tensors[key], tensors[f'{stem}.lora_up.weight'], float(tensors[f'{stem}.alpha']))
        return out, 'kohya'
    config = json.loads(metadata.get('lora_adapter_metadata', '{}'))
    for key in tensors:
        if key.endswith('.lora_A.weight'):
            m = key[len('unet.'):-len('.lora_A.weight')]
            a, b = tensors[key], tensors[key.replace('.lora_A.', '.lora_B.')]
            alpha = config.get('unet.alpha_pattern', {}).get(m, config.get('unet.lora_alpha', a.shape[0]))
            out[m] = (a, b, float(alpha))
    return out, 'peft'


def load_unet(folder):
    with open(os.path.join(folder, 'unet', 'config.json')) as f:
        config = json.load(f)
    weights, _ = read_safetensors(os.path.join(folder, 'unet', 'diffusion_pytorch_model.safetensors'))
    model = UNet2DConditionModel(config).eval()
    model.load_state_dict(weights, strict=True)
    return model


def check_against_diffusers(folder):
    with open(os.path.join(folder, 'reference_io.json')) as f:
        ref = json.load(f)['unet']
    tensor = lambda e: torch.tensor(e['data'], dtype=torch.float32).reshape(e['shape'])
    inputs = ref['inputs']
    with torch.no_grad():
        out = load_unet(folder)(tensor(inputs['sample']), tensor(inputs['timestep']), tensor(inputs['encoder_hidden_states']))
    print(json.dumps({'max_abs_diff': (out - tensor(ref['outputs']['out_sample'])).abs().max().item()}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--folder')
    ap.add_argument('--lora')
    ap.add_argument('--io')
    ap.add_argument('--diffusers-reference')
    args = ap.parse_args()
    if args.diffusers_reference:
        return check_against_diffusers(args.diffusers_reference)
    if not (args.folder and args.lora and args.io):
        ap.error('give --folder, --lora and --io (or --diffusers-reference)')
    model = load_unet(args.folder)
    io, _ = read_safetensors(args.io)
    inputs = (io['input.sample'], io['input.timestep'], io['input.encoder_hidden_states'])
    with torch.no_grad():
        before = model(*inputs)
        modules = dict(model.named_modules())
        deltas, naming = lora_deltas(args.lora, modules.keys())
        for m, (a, b, alpha) in deltas.items():
            w = modules[m].weight
            w += (alpha / a.shape[0]) * (b.reshape(b.shape[0], -1) @ a.reshape(a.shape[0], -1)).reshape(w.shape)
        after = model(*inputs)
    print(json.dumps({
        'naming': naming,
        'adapters': len(deltas),
        'max_abs_diff': (after - io['studio.out_sample']).abs().max().item(),
        'lora_effect': (after - before).abs().max().item(),
        'output_max_abs': after.abs().max().item(),
    }))


if __name__ == '__main__':
    main()
