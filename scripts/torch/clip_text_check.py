"""Loads a studio diffusers-folder export's tokenizer/ and text_encoder/ the way diffusers does, in plain PyTorch, and
prints the text embeddings of a prompt — for comparison with the studio's (src/interop/torchClipTextCheck.test.ts).

No `transformers` here, so both halves are written out:
- CLIPTokenizer: OpenAI's simple_tokenizer.py (byte symbols, CLIP's split pattern, BPE by merge rank) reading only
  vocab.json, merges.txt (lines 1 … 49152 − 256 − 2, as transformers' tokenization_clip.py) and added_tokens.json;
  added tokens are cut out first, as written (transformers' tokens trie); padded with <|endoftext|> to 77 as SD 1.x.
  Without the `regex` package, \\p{L} is [^\\W\\d_] and \\p{N} is \\d (they differ only on rare numerals such as ²).
- CLIPTextModel: transformers' modeling_clip.py forward (token + position embeddings, pre-LN causal self-attention and
  MLP layers, final_layer_norm), loading transformers' parameter names strictly.
- --embedding FILE --token T: diffusers' load_textual_inversion — the file's vectors become the new token T, appended
  after the tokenizer's ids (the token table grows by their rows).

    python3 scripts/torch/clip_text_check.py --folder DIR --prompt TEXT [--embedding FILE --token T] [--io FILE]
    python3 scripts/torch/clip_text_check.py --transformers-reference fixtures/diffusers-tiny-sd

model_index.json must name CLIPTokenizer and CLIPTextModel, as from_pretrained needs. Prints JSON: ids (the prompt's
token ids, unpadded), and with --io (a safetensors file holding studio.last_hidden_state [1, 77, hidden]) max_abs_diff.
The second form checks the text model itself against transformers' outputs (reference_io.json): {"max_abs_diff": …}.
"""
import argparse
import json
import os
import re
import unicodedata

import torch
import torch.nn.functional as F

from lora_check import read_safetensors


def bytes_to_unicode():
    printable = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    symbols, extra = {}, 0
    for b in range(256):
        if b in printable:
            symbols[b] = chr(b)
        else:
            symbols[b] = chr(256 + extra)
            extra += 1
    return symbols


class ClipTokenizer:
    PATTERN = re.compile(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+", re.IGNORECASE)

    def __init__(self, folder):
        with open(os.path.join(folder, 'vocab.json'), encoding='utf-8') as f:
            self.vocab = json.load(f)
        with open(os.path.join(folder, 'merges.txt'), encoding='utf-8') as f:
            merges = f.read().strip().split('\n')[1:49152 - 256 - 2 + 1]
        self.ranks = {tuple(m.split()): i for i, m in enumerate(merges)}
        added = os.path.join(folder, 'added_tokens.json')
        self.added = json.load(open(added, encoding='utf-8')) if os.path.exists(added) else {}
        self.byte_symbol = bytes_to_unicode()

    def add_token(self, token):
        assert token not in self.vocab and token not in self.added, f'{token} is already in the tokenizer'
        self.added[token] = len(self.vocab) + len(self.added)
        return self.added[token]

    def bpe(self, token):
        word = list(token[:-1]) + [token[-1] + '</w>']
        while len(word) > 1:
            pairs = [(self.ranks.get(p, float('inf')), i) for i, p in enumerate(zip(word, word[1:]))]
            rank, _ = min(pairs)
            if rank == float('inf'):
                break
            first, second = next(p for p in zip(word, word[1:]) if self.ranks.get(p) == rank)
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == first and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        return word

    def encode_bpe(self, text):
        text = re.sub(r'\s+', ' ', unicodedata.normalize('NFC', text)).strip().lower()
        ids = []
        for piece in self.PATTERN.findall(text):
            ids += [self.vocab[p] for p in self.bpe(''.join(self.byte_symbol[b] for b in piece.encode('utf-8')))]
        return ids

    def __call__(self, text, length=77):
        ids = []
        if self.added:
            parts = re.split('(' + '|'.join(re.escape(t) for t in sorted(self.added, key=len, reverse=True)) + ')', text)
        else:
            parts = [text]
        for i, part in enumerate(parts):
            ids += [self.added[part]] if i % 2 == 1 else self.encode_bpe(part)
        ids = [self.vocab['<|startoftext|>']] + ids[:length - 2] + [self.vocab['<|endoftext|>']]
        return ids, ids + [self.vocab['<|endoftext|>']] * (length - len(ids))


def clip_text_model(folder):
    """transformers' CLIPTextModel forward as a function of input_ids [B, L] → last_hidden_state."""
    with open(os.path.join(folder, 'config.json')) as f:
        c = json.load(f)
    w, _ = read_safetensors(os.path.join(folder, 'model.safetensors'))
    w = {(k if k.startswith('text_model.') else 'text_model.' + k): v for k, v in w.items() if not k.endswith('position_ids')}
    names = {'text_model.embeddings.token_embedding.weight', 'text_model.embeddings.position_embedding.weight',
             'text_model.final_layer_norm.weight', 'text_model.final_layer_norm.bias'}
    for i in range(c['num_hidden_layers']):
        for m in ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.out_proj', 'layer_norm1', 'layer_norm2', 'mlp.fc1', 'mlp.fc2']:
            names |= {f'text_model.encoder.layers.{i}.{m}.weight', f'text_model.encoder.layers.{i}.{m}.bias'}
    assert set(w) == names, f'weights differ from CLIPTextModel: missing {sorted(names - set(w))}, unexpected {sorted(set(w) - names)}'
    assert w['text_model.embeddings.token_embedding.weight'].shape[0] == c['vocab_size'], 'vocab_size differs from the token table'
    act = {'quick_gelu': lambda x: x * torch.sigmoid(1.702 * x), 'gelu': F.gelu}[c['hidden_act']]
    heads, eps = c['num_attention_heads'], c['layer_norm_eps']

    def forward(input_ids):
        p = lambda name: w['text_model.' + name]
        ln = lambda x, name: F.layer_norm(x, x.shape[-1:], p(name + '.weight'), p(name + '.bias'), eps)
        lin = lambda x, name: F.linear(x, p(name + '.weight'), p(name + '.bias'))
        b, n = input_ids.shape
        x = p('embeddings.token_embedding.weight')[input_ids] + p('embeddings.position_embedding.weight')[:n]
        causal = torch.full((n, n), float('-inf')).triu(1)
        for i in range(c['num_hidden_layers']):
            layer = f'encoder.layers.{i}'
            h = ln(x, layer + '.layer_norm1')
            q, k, v = (lin(h, f'{layer}.self_attn.{m}_proj').reshape(b, n, heads, -1).transpose(1, 2) for m in 'qkv')
            scores = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5 + causal
            h = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, -1)
            x = x + lin(h, layer + '.self_attn.out_proj')
            x = x + lin(act(lin(ln(x, layer + '.layer_norm2'), layer + '.mlp.fc1')), layer + '.mlp.fc2')
        return ln(x, 'final_layer_norm')

    forward.weights = w
    return forward


def load_textual_inversion(tokenizer, model, path, token):
    """diffusers' load_textual_inversion for a single-vector file: new token id, one more row in the token table."""
    tensors, _ = read_safetensors(path)
    (vectors,) = tensors.values()
    vectors = vectors.reshape(-1, vectors.shape[-1])
    assert vectors.shape[0] == 1, 'multi-vector embeddings are not handled here'
    table = model.weights['text_model.embeddings.token_embedding.weight']
    assert vectors.shape[1] == table.shape[1], f'embedding width {vectors.shape[1]} differs from the text encoder {table.shape[1]}'
    assert tokenizer.add_token(token) == table.shape[0], 'the new token id is not the next row'
    model.weights['text_model.embeddings.token_embedding.weight'] = torch.cat([table, vectors])


def check_against_transformers(folder):
    with open(os.path.join(folder, 'reference_io.json')) as f:
        ref = json.load(f)['text_encoder']
    ids = torch.tensor(ref['inputs']['input_ids']['data']).reshape(ref['inputs']['input_ids']['shape'])
    out = ref['outputs']['last_hidden_state']
    with torch.no_grad():
        got = clip_text_model(os.path.join(folder, 'text_encoder'))(ids)
    print(json.dumps({'max_abs_diff': (got - torch.tensor(out['data']).reshape(out['shape'])).abs().max().item()}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--folder')
    ap.add_argument('--prompt')
    ap.add_argument('--embedding')
    ap.add_argument('--token')
    ap.add_argument('--io')
    ap.add_argument('--transformers-reference')
    args = ap.parse_args()
    if args.transformers_reference:
        return check_against_transformers(args.transformers_reference)
    if not (args.folder and args.prompt is not None) or bool(args.embedding) != bool(args.token):
        ap.error('give --folder and --prompt (and --embedding with --token), or --transformers-reference')
    with open(os.path.join(args.folder, 'model_index.json')) as f:
        index = json.load(f)
    # StableDiffusionPipeline.from_pretrained loads the components the index names, and none where it says [null, null].
    for part, library_class in [('tokenizer', ['transformers', 'CLIPTokenizer']), ('text_encoder', ['transformers', 'CLIPTextModel'])]:
        assert index.get(part) == library_class, f'model_index.json: {part} is {index.get(part)}, not {library_class}'
    tokenizer = ClipTokenizer(os.path.join(args.folder, 'tokenizer'))
    model = clip_text_model(os.path.join(args.folder, 'text_encoder'))
    if args.embedding:
        load_textual_inversion(tokenizer, model, args.embedding, args.token)
    ids, padded = tokenizer(args.prompt)
    with torch.no_grad():
        out = model(torch.tensor([padded]))
    report = {'ids': ids}
    if args.io:
        io, _ = read_safetensors(args.io)
        report['max_abs_diff'] = (out - io['studio.last_hidden_state']).abs().max().item()
    print(json.dumps(report))


if __name__ == '__main__':
    main()
