#!/usr/bin/python3
"""Converts a trained DnCNN-B blind Gaussian denoiser (a PyTorch state dict) into a TorchScript
denoiser, for the "noise + denoise" clean-ups (BELLADONNA_DENOISER): a removal tool adds
noise and lets a trained denoiser take it away again, which belladonna otherwise
approximates with a 3 x 3 median.

    scripts/convert-dncnn.py net.pth OUT.pt [--check IMAGE]

net.pth is logs/DnCNN-B/net.pth from SaoYan/DnCNN-PyTorch, commit 6b08049 (GPL 3.0, the
repository's LICENSE); the file's sha256 is checked. The network (Zhang et al., "Beyond a
Gaussian Denoiser: Residual Learning of Deep CNN for Image Denoising", TIP 2017, the blind
variant trained on noise of standard deviation 0-55 in 0..255 units): a 3 x 3 convolution to
64 channels and a ReLU, 18 of 3 x 3 convolution, batch normalisation and ReLU, and a 3 x 3
convolution back to one channel, which estimates the noise. It was trained on grey images
in [0, 1].

OUT.pt maps [N, 1, H, W] in [0, 1] to the denoised [N, 1, H, W] (the input less the
estimated noise, clamped to [0, 1]); belladonna runs each colour channel through it. The
script checks that every layer has the expected shape and that the saved TorchScript module
reproduces the eager one; with --check, IMAGE (any RGB image, e.g.
samples/landscape-photo.jpg) gets Gaussian noise of standard deviation 0.05 and the network
must come closer to the clean image (PSNR) than a 3 x 3 median does, as a trained denoiser
does. The weights are never part of belladonna: write OUT outside the repository or under an
ignored name (*.pt is ignored). Needs Debian's python3-torch and python3-numpy (and
python3-pil for --check).
"""
import argparse
import io
import math
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from encoder_export import read_checked, save_purifier_network

SHA256 = "dc25406eff05b9f4d1b30084a7a774e458e963f67d4a0ad1d2d9efbef4325b39"
SOURCE = "github.com/SaoYan/DnCNN-PyTorch @ 6b08049, logs/DnCNN-B/net.pth"
LICENCE = "GPL 3.0 (the repository's LICENSE)"
LAYERS = 20
FEATURES = 64


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        layers = [nn.Conv2d(1, FEATURES, 3, padding=1, bias=False), nn.ReLU()]
        for _ in range(LAYERS - 2):
            layers += [nn.Conv2d(FEATURES, FEATURES, 3, padding=1, bias=False), nn.BatchNorm2d(FEATURES), nn.ReLU()]
        layers.append(nn.Conv2d(FEATURES, 1, 3, padding=1, bias=False))
        self.noise = nn.Sequential(*layers)

    def forward(self, x):
        return (x - self.noise(x)).clamp(0, 1)


def build(state):
    # The checkpoint was saved through nn.DataParallel ("module." in front) under the name
    # "dncnn"; its Sequential indices are the ones Denoiser.noise has.
    renamed = {}
    for key, value in state.items():
        if not key.startswith("module.dncnn."):
            sys.exit(f"convert-dncnn: unexpected entry {key}: not a DnCNN checkpoint")
        renamed["noise." + key[len("module.dncnn."):]] = value
    model = Denoiser()
    expected = model.state_dict()
    for key, value in expected.items():
        if key.endswith("num_batches_tracked"):
            renamed.setdefault(key, value)  # not in checkpoints of PyTorch before 0.4.1
        elif key not in renamed or tuple(renamed[key].shape) != tuple(value.shape):
            found = tuple(renamed[key].shape) if key in renamed else "nothing"
            sys.exit(f"convert-dncnn: {key}: expected {tuple(value.shape)}, found {found}")
    extra = set(renamed) - set(expected)
    if extra:
        sys.exit(f"convert-dncnn: unexpected entries {sorted(extra)[:3]}: not DnCNN-B (20 layers)")
    model.load_state_dict(renamed)
    return model.eval()


def psnr(a, b):
    return 10 * math.log10(1.0 / float(((a - b) ** 2).mean()))


def median3x3(x):
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
    return padded.unfold(2, 3, 1).unfold(3, 3, 1).reshape(*x.shape, 9).median(-1).values


def check(model, path):
    from PIL import Image
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
    clean = torch.from_numpy(rgb).permute(2, 0, 1)[:, None]  # each channel a grey image
    g = torch.Generator().manual_seed(1)
    noisy = (clean + 0.05 * torch.randn(clean.shape, generator=g)).clamp(0, 1)
    with torch.no_grad():
        learned = model(noisy)
    ours, theirs = psnr(learned, clean), psnr(median3x3(noisy), clean)
    print(f"convert-dncnn: {path}, noise 0.05: DnCNN-B {ours:.2f} dB, 3 x 3 median {theirs:.2f} dB")
    if ours <= theirs:
        sys.exit("convert-dncnn: the network does not beat the median; the conversion is wrong")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pth", help="DnCNN-B's net.pth")
    ap.add_argument("out", help="the TorchScript denoiser to write")
    ap.add_argument("--check", metavar="IMAGE", help="an RGB image the network must denoise better than a median")
    args = ap.parse_args()
    buf, digest = read_checked(args.pth, SHA256, SOURCE)
    model = build(torch.load(io.BytesIO(buf), map_location="cpu"))
    save_purifier_network(model, args.out, "convert-dncnn", check, args.check,
                          f"grey denoiser; source {SOURCE}, sha256 {digest}, licence {LICENCE}")


if __name__ == "__main__":
    main()
