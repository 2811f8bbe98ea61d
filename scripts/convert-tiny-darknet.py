#!/usr/bin/python3
"""Converts Tiny Darknet (pjreddie's ImageNet classifier, darknet .weights) into a float
TorchScript image encoder with belladonna's JSON sidecar, for bench/effect: a trained
ImageNet encoder of a plain conv + batch-norm family, from another author and framework.

    scripts/convert-tiny-darknet.py tiny.weights OUT.pt [--check IMAGE --expect NAME --labels FILE]

tiny.weights is darknet/tiny.weights of leggedrobotics/darknet_ros at commit
b8e7a2fb89922ece0f4264367ce7293083bb4dc4 (only in that commit's history: it vendored darknet
with its weights; `git show b8e7a2fb:darknet/tiny.weights`); the file's sha256 is checked.
Darknet is public domain (pjreddie's YOLO LICENSE v2, darknet/LICENSE); darknet_ros itself is
BSD-3. The layout: int32 major, minor, revision, seen; then per conv float32 biases,
[batch-norm scales, rolling means, rolling variances], weights [out, in, k, k]. The
architecture is darknet/cfg/tiny.cfg, written out below: 3x3 and 1x1 convs, each with batch
norm (darknet's (x - mean) / (sqrt(var) + 1e-6), folded into the conv here) and leaky ReLU
0.1, 2x2 max pools, then a 1x1 conv to the 1000 classes, a global average and a softmax.
Input: 224 px RGB in [0, 1], no mean or std.

OUT.pt maps [N, 3, 224, 224] RGB in [0, 1] (sidecar mean 0, std 1) to the 128-d global
average of the last layer before the classifier (the 1x1 conv to 128 with its leaky ReLU);
the classifier conv is left out. The script checks that the loader consumed the file exactly
and that the saved TorchScript module reproduces the eager features; with --check, the full
classifier (the last conv from the same file) must rank a class whose label (a line of FILE,
darknet's order: the first 1000 lines of data/imagenet.shortnames.list, matched as a
substring) contains NAME in IMAGE's top 5 (needs python3-pil). The weights are never part of
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

SHA256 = "f1c3fe6b9bab9af69ae2a090682df3e5b9d83accba69551315f030ce1b37ea81"
SOURCE = "github.com/leggedrobotics/darknet_ros @ b8e7a2fb89922ece0f4264367ce7293083bb4dc4 darknet/tiny.weights"
LICENCE = "public domain (darknet's YOLO LICENSE v2); the darknet_ros repository is BSD-3"
SIZE = 224
# cfg/tiny.cfg: a number is a conv with batch norm and leaky ReLU (filters, size; stride 1,
# padding size // 2), "M" a 2x2 max pool of stride 2. The last conv (1000, 1x1, linear, with
# biases, no batch norm) is the classifier.
LAYERS = [(16, 3), "M", (32, 3), "M", (16, 1), (128, 3), (16, 1), (128, 3), "M",
          (32, 1), (256, 3), (32, 1), (256, 3), "M", (64, 1), (512, 3), (64, 1), (512, 3), (128, 1)]
CLASSES = 1000


def load(buf):
    """The folded convs [(weight, bias)] and the classifier (weight, bias), as float tensors."""
    major, minor, revision = np.frombuffer(buf, np.int32, 3, 0)
    if (major, minor, revision) != (0, 1, 0):
        sys.exit(f"header {major}.{minor}.{revision}: not the expected darknet weights")
    off = 16  # the header and an int32 "seen" (an int64 from version 0.2 on)

    def take(*shape):
        nonlocal off
        n = int(np.prod(shape))
        a = np.frombuffer(buf, np.float32, n, off).astype(np.float64).reshape(shape)
        off += 4 * n
        return a

    convs, c = [], 3
    for layer in LAYERS:
        if layer == "M":
            continue
        n, k = layer
        bias, scale, mean, var = take(n), take(n), take(n), take(n)
        w = take(n, c, k, k)
        fold = scale / (np.sqrt(var) + 1e-6)
        convs.append((torch.tensor(w * fold[:, None, None, None], dtype=torch.float32),
                      torch.tensor(bias - mean * fold, dtype=torch.float32)))
        c = n
    bias = take(CLASSES)
    head = (torch.tensor(take(CLASSES, c), dtype=torch.float32), torch.tensor(bias, dtype=torch.float32))
    if off != len(buf):
        sys.exit(f"loading used {off} of {len(buf)} bytes: not the expected file layout")
    return convs, head


class TinyDarknetEncoder(torch.nn.Module):
    """RGB in [0, 1] (darknet's own input) -> the 128-channel map before the classifier."""

    def __init__(self, convs):
        super().__init__()
        self.convs = torch.nn.ModuleList()
        it = iter(convs)
        self.pool_after = []  # per conv: whether a max pool follows it
        for layer in LAYERS:
            if layer == "M":
                self.pool_after[-1] = True
                continue
            w, b = next(it)
            conv = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], 1, w.shape[2] // 2)
            conv.weight.data.copy_(w)
            conv.bias.data.copy_(b)
            conv.requires_grad_(False)
            self.convs.append(conv)
            self.pool_after.append(False)

    def forward(self, x):
        for conv, pool in zip(self.convs, self.pool_after):
            x = F.leaky_relu(conv(x), 0.1)
            if pool:
                x = F.max_pool2d(x, 2, 2)
        return x.mean(dim=(2, 3))


def classify(encoder, head, x):
    """The full classifier's class probabilities: its 1x1 linear conv commutes with the average."""
    return torch.softmax(F.linear(encoder(x), *head), 1)


def load_image(path, size):
    """The short side resized to 224, the centre 224 x 224."""
    try:
        from PIL import Image
    except ImportError:
        sys.exit("--check needs python3-pil")
    im = Image.open(path).convert("RGB")
    s = size / min(im.size)
    im = im.resize((max(size, round(im.size[0] * s)), max(size, round(im.size[1] * s))), Image.BILINEAR)
    left, top = (im.size[0] - size) // 2, (im.size[1] - size) // 2
    a = np.asarray(im.crop((left, top, left + size, top + size)), np.float32) / 255.0
    return torch.from_numpy(a.transpose(2, 0, 1).copy())[None]


def check_class(encoder, head, args):
    labels = [line.strip() for line in open(args.labels, encoding="utf-8") if line.strip()][:CLASSES]
    wanted = [i for i, line in enumerate(labels) if args.expect.lower() in line.lower()]
    if not wanted:
        sys.exit(f"--expect {args.expect!r}: no such label in {args.labels}")
    with torch.no_grad():
        p, top = classify(encoder, head, load_image(args.check, SIZE))[0].topk(5)
    print(f"check {args.check}: " + "; ".join(f"{labels[i][:40]} {q:.3f}" for q, i in zip(p.tolist(), top.tolist())))
    if not set(top.tolist()) & set(wanted):
        sys.exit(f"check failed: no label containing {args.expect!r} in the top 5")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights", help="tiny.weights")
    ap.add_argument("out", help="OUT.pt (OUT.pt.json is written next to it)")
    ap.add_argument("--check", metavar="IMAGE", help="an image whose class the classifier must rank in its top 5")
    ap.add_argument("--expect", metavar="NAME", help="a substring of that class's label")
    ap.add_argument("--labels", metavar="FILE", help="labels, one a line, in darknet's order (imagenet.shortnames.list)")
    args = ap.parse_args()
    if args.check and not (args.expect and args.labels):
        ap.error("--check needs --expect and --labels")

    try:
        with open(args.weights, "rb") as f:
            buf = f.read()
    except OSError as e:
        sys.exit(f"{args.weights}: {e.strerror}")
    digest = hashlib.sha256(buf).hexdigest()
    if digest != SHA256:
        sys.exit(f"{args.weights}: sha256 {digest}, expected {SHA256} (tiny.weights)")
    convs, head = load(buf)
    print(f"loaded {len(buf)} of {len(buf)} bytes: {len(convs)} convs with batch norm + the classifier")
    encoder = TinyDarknetEncoder(convs).eval()
    if args.check:
        check_class(encoder, head, args)

    torch.manual_seed(0)
    traced = torch.jit.trace(encoder, torch.rand(2, 3, SIZE, SIZE))
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
    sidecar = {"name": "tiny-darknet", "input_size": SIZE,
               "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "embed_dim": int(eager.shape[1])}
    with open(args.out + ".json", "w") as f:
        json.dump(sidecar, f, indent=1)
    with open(args.out, "rb") as f:
        out_digest = hashlib.sha256(f.read()).hexdigest()
    print(f"saved module matches eager features (max diff {diff:.1e}); gradients reach the input")
    print(f"wrote {args.out} (+ .json): {SIZE} px in, {eager.shape[1]}-d features; sha256 {out_digest}")
    print(f"source: {SOURCE}, sha256 {digest}")
    print(f"licence: {LICENCE}")


if __name__ == "__main__":
    main()
