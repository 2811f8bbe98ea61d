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
import sys

import numpy as np
import torch
import torch.nn.functional as F

from encoder_export import (add_check_arguments, centre_crop, check_top5, parse_with_check, read_checked,
                            save_encoder)

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


def check_class(encoder, weights, args):
    check_top5(lambda x: classify(encoder, weights, x), centre_crop(args.check, 256, SIZE), args)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("net", help="compressed_SqueezeNet.net")
    ap.add_argument("out", help="OUT.pt (OUT.pt.json is written next to it)")
    add_check_arguments(ap, "1000 labels, one a line, in Caffe's order (synset_words.txt)")
    args = parse_with_check(ap)

    buf, digest = read_checked(args.net, SHA256, "compressed_SqueezeNet.net")
    weights = decode(buf)
    kept = sum(int((w != 0).sum()) for w, _, _, _ in weights.values())
    print(f"decoded {len(buf)} of {len(buf)} bytes: {len(weights)} conv layers, {kept} non-zero weights")
    encoder = SqueezeNetEncoder(weights).eval()
    if args.check:
        check_class(encoder, weights, args)

    save_encoder(encoder, args.out, SIZE, "squeezenet-v1.0-deep-compression")
    print(f"source: {SOURCE} compressed_SqueezeNet.net, sha256 {digest}")
    print(f"licence: {LICENCE}")


if __name__ == "__main__":
    main()
