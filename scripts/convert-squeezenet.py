#!/usr/bin/python3
"""Converts the Deep Compression SqueezeNet v1.0 (pruned, 8-bit codebook, Caffe) into a float
TorchScript image encoder with belladonna's JSON sidecar, for bench/effect: a trained
ImageNet encoder of the SqueezeNet family, small enough to run anywhere.

    scripts/convert-squeezenet.py compressed_SqueezeNet.net OUT.pt [--check IMAGE --expect NAME --labels FILE]

compressed_SqueezeNet.net is from songhan/SqueezeNet-Deep-Compression, commit
fb13faa2cf121ced9999f8a9d538ec6c56084733 (BSD licence, the repository's LICENCE); the file's
sha256 is checked. Its layout (the repository's decode.py): uint32 non-zero counts, one per
conv layer; then per layer float32 codebook[256], float32 bias[out], uint8 codebook index per
kept weight, and 4-bit gaps between kept weights (low nibble first). The architecture is
that repository's SqueezeNet_deploy.prototxt, written out below: Caffe SqueezeNet v1.0, ceil-
mode max pools, native input 227 px, BGR 0..255 minus the mean (104, 117, 123).

OUT.pt maps [N, 3, 227, 227] RGB in [0, 1] (sidecar mean 0, std 1; the channel flip, the
scaling and the mean are inside the module) to the 512-d global average of fire9's output
after its ReLU; dropout and the classifier conv_final are left out. The script checks that
the decoder consumed the file exactly and that the saved TorchScript module reproduces the
eager features; with --check, the full classifier (conv_final from the same file) must rank
a class whose label (a line of FILE, e.g. Caffe's synset_words.txt, matched as a substring)
contains NAME in IMAGE's top 5 (needs python3-pil). The weights are never part of
belladonna: write OUT outside the repository or under an ignored name (*.pt is ignored).
Needs Debian's python3-torch and python3-numpy.
"""
import argparse
import hashlib
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

SHA256 = "e4ab6960ae8cd81505e1c2136921201507e930966c53deaf15862a395b3a3261"
SOURCE = "github.com/songhan/SqueezeNet-Deep-Compression @ fb13faa2cf121ced9999f8a9d538ec6c56084733"
LICENCE = "BSD (the repository's LICENCE)"
SIZE = 227
MEAN_BGR = (104.0, 117.0, 123.0)
# Fire modules as in the prototxt: (squeeze, expand 1x1, expand 3x3); a max pool (3, stride
# 2, ceil mode) follows conv1, fire4 and fire8.
FIRES = [(16, 64, 64), (16, 64, 64), (32, 128, 128), (32, 128, 128),
         (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256)]
POOL_AFTER = {"conv1", "fire4", "fire8"}


def conv_layers():
    """(name, weight shape, stride, padding) of every conv, in the file's (the prototxt's) order."""
    out, c = [("conv1", (96, 3, 7, 7), 2, 0)], 96
    for i, (s, e1, e3) in enumerate(FIRES, start=2):
        out += [(f"fire{i}/conv1x1_1", (s, c, 1, 1), 1, 0), (f"fire{i}/conv1x1_2", (e1, s, 1, 1), 1, 0),
                (f"fire{i}/conv3x3_2", (e3, s, 3, 3), 1, 1)]
        c = e1 + e3
    return out + [("conv_final", (1000, c, 1, 1), 1, 1)]  # pad 1: the prototxt's, kept as trained


def decode(buf):
    layers = conv_layers()
    off = 4 * len(layers)
    counts = np.frombuffer(buf, np.uint32, len(layers), 0)
    weights = {}
    for (name, shape, stride, pad), n in zip(layers, counts.astype(np.int64)):
        codebook = np.frombuffer(buf, np.float32, 256, off)
        off += 4 * 256
        bias = np.frombuffer(buf, np.float32, shape[0], off)
        off += 4 * shape[0]
        codes = np.frombuffer(buf, np.uint8, n, off)
        off += n
        nibbles = np.frombuffer(buf, np.uint8, (n - 1) // 2 + 1, off)
        off += nibbles.size
        gaps = np.stack([nibbles & 15, nibbles >> 4], axis=1).reshape(-1)[:n].astype(np.int64)
        where = np.cumsum(gaps + 1) - 1
        if codebook[0] != 0 or where[-1] >= np.prod(shape):
            sys.exit(f"{name}: not the expected layout (codebook[0] {codebook[0]}, last index {where[-1]})")
        index = np.zeros(int(np.prod(shape)), np.uint8)
        index[where] = codes  # index 0 is the pruned value (and the filler of gaps over 15)
        weights[name] = (torch.from_numpy(codebook[index].reshape(shape)), torch.from_numpy(bias.copy()),
                         stride, pad)
    if off != len(buf):
        sys.exit(f"decoding used {off} of {len(buf)} bytes: not the expected file layout")
    return weights


class SqueezeNetEncoder(torch.nn.Module):
    """RGB in [0, 1] -> Caffe's input (BGR, 0..255, minus the mean) -> fire9's ReLU output."""

    def __init__(self, weights):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN_BGR).view(1, 3, 1, 1))
        self.convs = torch.nn.ModuleList()
        self.names = []
        for name, (w, b, stride, pad) in weights.items():
            if name == "conv_final":
                continue
            conv = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], stride, pad)
            conv.weight.data.copy_(w)
            conv.bias.data.copy_(b)
            conv.requires_grad_(False)
            self.convs.append(conv)
            self.names.append(name)

    def feature_map(self, x):
        x = x.flip(1) * 255.0 - self.mean
        x = F.relu(self.convs[0](x))
        x = F.max_pool2d(x, 3, 2, ceil_mode=True)
        for i in range(len(FIRES)):
            squeeze, e1, e3 = self.convs[1 + 3 * i:4 + 3 * i]
            s = F.relu(squeeze(x))
            x = torch.cat([F.relu(e1(s)), F.relu(e3(s))], 1)
            if f"fire{i + 2}" in POOL_AFTER:
                x = F.max_pool2d(x, 3, 2, ceil_mode=True)
        return x

    def forward(self, x):
        return self.feature_map(x).mean(dim=(2, 3))


def classify(encoder, weights, x):
    """The full classifier's class probabilities: conv_final (pad 1), ReLU, average, softmax."""
    w, b, _, pad = weights["conv_final"]
    logits = F.relu(F.conv2d(encoder.feature_map(x), w, b, padding=pad)).mean(dim=(2, 3))
    return torch.softmax(logits, 1)


def load_image(path, short, size):
    """Caffe's evaluation crop: the short side resized to 256, the centre 227 x 227."""
    try:
        from PIL import Image
    except ImportError:
        sys.exit("--check needs python3-pil")
    im = Image.open(path).convert("RGB")
    s = short / min(im.size)
    im = im.resize((max(short, round(im.size[0] * s)), max(short, round(im.size[1] * s))), Image.BILINEAR)
    left, top = (im.size[0] - size) // 2, (im.size[1] - size) // 2
    a = np.asarray(im.crop((left, top, left + size, top + size)), np.float32) / 255.0
    return torch.from_numpy(a.transpose(2, 0, 1).copy())[None]


def check_class(encoder, weights, args):
    labels = [line.strip() for line in open(args.labels, encoding="utf-8") if line.strip()][:1000]
    wanted = [i for i, line in enumerate(labels) if args.expect.lower() in line.lower()]
    if not wanted:
        sys.exit(f"--expect {args.expect!r}: no such label in {args.labels}")
    with torch.no_grad():
        p, top = classify(encoder, weights, load_image(args.check, 256, SIZE))[0].topk(5)
    print(f"check {args.check}: " + "; ".join(f"{labels[i][:40]} {q:.3f}" for q, i in zip(p.tolist(), top.tolist())))
    if not set(top.tolist()) & set(wanted):
        sys.exit(f"check failed: no label containing {args.expect!r} in the top 5")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("net", help="compressed_SqueezeNet.net")
    ap.add_argument("out", help="OUT.pt (OUT.pt.json is written next to it)")
    ap.add_argument("--check", metavar="IMAGE", help="an image whose class the classifier must rank in its top 5")
    ap.add_argument("--expect", metavar="NAME", help="a substring of that class's label")
    ap.add_argument("--labels", metavar="FILE", help="1000 labels, one a line, in Caffe's order (synset_words.txt)")
    args = ap.parse_args()
    if args.check and not (args.expect and args.labels):
        ap.error("--check needs --expect and --labels")

    try:
        with open(args.net, "rb") as f:
            buf = f.read()
    except OSError as e:
        sys.exit(f"{args.net}: {e.strerror}")
    digest = hashlib.sha256(buf).hexdigest()
    if digest != SHA256:
        sys.exit(f"{args.net}: sha256 {digest}, expected {SHA256} (compressed_SqueezeNet.net)")
    weights = decode(buf)
    kept = sum(int((w != 0).sum()) for w, _, _, _ in weights.values())
    print(f"decoded {len(buf)} of {len(buf)} bytes: {len(weights)} conv layers, {kept} non-zero weights")
    encoder = SqueezeNetEncoder(weights).eval()
    if args.check:
        check_class(encoder, weights, args)

    torch.manual_seed(0)
    probe = torch.rand(2, 3, SIZE, SIZE)
    traced = torch.jit.trace(encoder, probe)
    traced.save(args.out)
    reloaded = torch.jit.load(args.out)
    other = torch.rand(3, 3, SIZE, SIZE)
    with torch.no_grad():
        eager = encoder(other)
        diff = (reloaded(other) - eager).abs().max().item()
    if diff > 1e-5:
        sys.exit(f"{args.out}: the saved module differs from the eager one by {diff}")
    x = other[:1].clone().requires_grad_(True)
    reloaded(x).sum().backward()
    if not (x.grad is not None and x.grad.abs().sum() > 0):
        sys.exit(f"{args.out}: no gradient reaches the input")
    sidecar = {"name": "squeezenet-v1.0-deep-compression", "input_size": SIZE,
               "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "embed_dim": int(eager.shape[1])}
    with open(args.out + ".json", "w") as f:
        json.dump(sidecar, f, indent=1)
    with open(args.out, "rb") as f:
        out_digest = hashlib.sha256(f.read()).hexdigest()
    print(f"saved module matches eager features (max diff {diff:.1e}); gradients reach the input")
    print(f"wrote {args.out} (+ .json): {SIZE} px in, {eager.shape[1]}-d features; sha256 {out_digest}")
    print(f"source: {SOURCE} compressed_SqueezeNet.net, sha256 {digest}")
    print(f"licence: {LICENCE}")


if __name__ == "__main__":
    main()
