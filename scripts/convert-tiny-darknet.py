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
import sys

import numpy as np
import torch
import torch.nn.functional as F

from encoder_export import (add_check_arguments, centre_crop, check_top5, parse_with_check, read_checked,
                            save_encoder)

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


def check_class(encoder, head, args):
    check_top5(lambda x: classify(encoder, head, x), centre_crop(args.check, SIZE, SIZE), args, CLASSES)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights", help="tiny.weights")
    ap.add_argument("out", help="OUT.pt (OUT.pt.json is written next to it)")
    add_check_arguments(ap, "labels, one a line, in darknet's order (imagenet.shortnames.list)")
    args = parse_with_check(ap)

    buf, digest = read_checked(args.weights, SHA256, "tiny.weights")
    convs, head = load(buf)
    print(f"loaded {len(buf)} of {len(buf)} bytes: {len(convs)} convs with batch norm + the classifier")
    encoder = TinyDarknetEncoder(convs).eval()
    if args.check:
        check_class(encoder, head, args)

    save_encoder(encoder, args.out, SIZE, "tiny-darknet")
    print(f"source: {SOURCE}, sha256 {digest}")
    print(f"licence: {LICENCE}")


if __name__ == "__main__":
    main()
