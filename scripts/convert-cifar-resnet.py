#!/usr/bin/python3
"""Converts a trained CIFAR-10 ResNet from a checkout of akamaster/pytorch_resnet_cifar10
into a TorchScript image encoder with belladonna's JSON sidecar, for bench/effect.

    scripts/convert-cifar-resnet.py CHECKOUT OUT.pt [--depth 20|32|44|56] [--output features|logits]

CHECKOUT is a checkout of that repository (its pretrained_models/*.th are the trained
weights, BSD-2 licensed there). The encoder maps [N, 3, 32, 32] RGB in [0, 1] (normalised by
the sidecar's mean/std, as the repository's trainer did) to the 64-d pooled features
before the classifier (default) or to the 10 class logits. The weights are never part of
belladonna: write OUT outside the repository or under an ignored name (*.pt is ignored).
Needs Debian's python3-torch.
"""
import argparse
import glob
import json
import os
import sys

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkout")
    ap.add_argument("out")
    ap.add_argument("--depth", type=int, default=20, choices=[20, 32, 44, 56])
    ap.add_argument("--output", choices=["features", "logits"], default="features")
    args = ap.parse_args()

    sys.path.insert(0, args.checkout)
    try:
        import resnet  # the repository's own model definition
    except ImportError as e:
        sys.exit(f"{args.checkout}: no resnet.py there ({e})")
    found = glob.glob(os.path.join(args.checkout, "pretrained_models", f"resnet{args.depth}-*.th"))
    if not found:
        sys.exit(f"{args.checkout}/pretrained_models: no resnet{args.depth}-*.th")
    checkpoint = torch.load(found[0], map_location="cpu")
    state = {k.removeprefix("module."): v for k, v in checkpoint["state_dict"].items()}
    net = getattr(resnet, f"resnet{args.depth}")()
    net.load_state_dict(state)
    net.eval()

    class Encoder(torch.nn.Module):
        """The network's own forward with a traceable global pool: [N, 64] or [N, 10]."""

        def __init__(self, net, logits):
            super().__init__()
            self.net = net
            self.logits = logits

        def forward(self, x):
            n = self.net
            out = torch.relu(n.bn1(n.conv1(x)))
            out = n.layer3(n.layer2(n.layer1(out))).mean(dim=(2, 3))
            return n.linear(out) if self.logits else out

    module = Encoder(net, args.output == "logits")
    example = torch.rand(2, 3, 32, 32)
    traced = torch.jit.trace(module, example)
    traced.save(args.out)
    sidecar = {
        "name": f"cifar10-resnet{args.depth}-{args.output}",
        "input_size": 32,
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
        "embed_dim": 64 if args.output == "features" else 10,
    }
    with open(args.out + ".json", "w") as f:
        json.dump(sidecar, f, indent=1)
    print(f"wrote {args.out} (+ .json) from {os.path.basename(found[0])}, "
          f"best_prec1 {checkpoint.get('best_prec1', float('nan')):.2f}")


if __name__ == "__main__":
    main()
