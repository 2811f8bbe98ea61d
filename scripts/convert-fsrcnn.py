#!/usr/bin/python3
"""Converts a trained FSRCNN 4x super-resolution network (a frozen TensorFlow graph) into a
TorchScript upscaler, for the learned "noisy upscaling" clean-up (BELLADONNA_UPSCALER): the
published attack on Glaze and Mist adds noise and lets a super-resolution network redraw the
image; without such a network belladonna can only approximate that with a bicubic resize.

    scripts/convert-fsrcnn.py FSRCNN_x4.pb OUT.pt [--check IMAGE]

FSRCNN_x4.pb is from Saafke/FSRCNN_Tensorflow, commit 6a4812c (models/FSRCNN_x4.pb, the
model OpenCV's dnn_superres module uses; Apache 2.0, the repository's LICENSE); the file's
sha256 is checked. The network (Dong et al., "Accelerating the Super-Resolution
Convolutional Neural Network", ECCV 2016, with a sub-pixel output as in that repository):
a 5 x 5 convolution to 56 channels, a 1 x 1 to 12, four 3 x 3 convolutions, a 1 x 1 back
to 56, each followed by a PReLU; a 1 x 1 convolution to 16 channels, a depth-to-space
rearrangement to 4x the size, and one bias. It was trained on luma (OpenCV's YCrCb Y, in
[0, 1]).

OUT.pt maps [N, 1, H, W] luma in [0, 1] to [N, 1, 4H, 4W]. The script reads the graph's
constants with a small protobuf reader (no TensorFlow needed), checks that every layer was
found with the expected shape and that the saved TorchScript module reproduces the eager
one; with --check, IMAGE (any RGB image, e.g. samples/landscape-photo.jpg) is shrunk 4x and
brought back by the network and by a bicubic resize, and the network must come closer to
the original luma (PSNR) than bicubic does, as a trained upscaler does. The weights are
never part of belladonna: write OUT outside the repository or under an ignored name (*.pt
is ignored). Needs Debian's python3-torch and python3-numpy (and python3-pil for --check).
"""
import argparse
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

from encoder_export import read_checked, save_purifier_network

SHA256 = "5c68d18db561aed8ead4ffedf1b897ea615baaf60ebf6c35f8e641f8fa4a21bf"
SOURCE = "github.com/Saafke/FSRCNN_Tensorflow @ 6a4812c, models/FSRCNN_x4.pb"
LICENCE = "Apache 2.0 (the repository's LICENSE)"
SCALE, D, S, M = 4, 56, 12, 4


# --- protobuf wire format: just what a GraphDef's Const nodes need --------------------------
def varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def fields(buf):
    """(field number, wire type, value) for each field of a message; lengths as bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def tensor(buf):
    """A float TensorProto (dtype 1) as a numpy array."""
    dtype, shape, content, floats = None, [], None, []
    for number, wire, value in fields(buf):
        if number == 1:
            dtype = value
        elif number == 2:  # TensorShapeProto: dim (2) -> size (1)
            for n2, _, dim in fields(value):
                if n2 == 2:
                    shape.append(next((v for n3, _, v in fields(dim) if n3 == 1), 0))
        elif number == 4:
            content = value
        elif number == 5:  # float_val, packed or not
            floats.extend(struct.unpack(f"<{len(value) // 4}f", value) if wire == 2 else struct.unpack("<f", value))
    if dtype != 1:
        return None
    count = int(np.prod(shape)) if shape else 1
    if content is not None:
        return np.frombuffer(content, dtype="<f4").reshape(shape).copy()
    values = np.array(floats, dtype=np.float32)
    return (np.full(count, values[0], np.float32) if values.size == 1 else values).reshape(shape)


def constants(graph):
    """name -> float array, for every Const node of a serialized GraphDef."""
    out = {}
    for number, _, node in fields(graph):
        if number != 1:
            continue
        name = op = None
        value = None
        for n, _, v in fields(node):
            if n == 1:
                name = v.decode()
            elif n == 2:
                op = v.decode()
            elif n == 5:  # attr map entry: key (1), AttrValue (2) -> tensor (8)
                key = next((x.decode() for k, _, x in fields(v) if k == 1), "")
                attr = next((x for k, _, x in fields(v) if k == 2), b"")
                if key == "value":
                    value = next((tensor(x) for k, _, x in fields(attr) if k == 8), None)
        if op == "Const" and value is not None:
            out[name] = value
    return out


# --- the network --------------------------------------------------------------------------
class Fsrcnn(torch.nn.Module):
    """The body as convolutions and PReLUs, then the sub-pixel output and its one bias."""

    def __init__(self, body, out_bias):
        super().__init__()
        self.body = body
        self.out_bias = torch.nn.Parameter(out_bias, requires_grad=False)

    def forward(self, y):
        return F.pixel_shuffle(self.body(y), 4) + self.out_bias


def build(consts):
    names = [f"f{i}" for i in range(1, M + 5)]
    missing = [n for n in names + [f"b{i}" for i in range(1, M + 5)] + [f"alpha{i}" for i in range(1, M + 4)]
               if n not in consts]
    if missing:
        sys.exit(f"convert-fsrcnn: the graph has no constant(s) {', '.join(missing)}; found {sorted(consts)}")
    expect = [(5, 5, 1, D), (1, 1, D, S)] + [(3, 3, S, S)] * M + [(1, 1, S, D), (1, 1, D, SCALE * SCALE)]
    for n, shape in zip(names, expect):
        if tuple(consts[n].shape) != shape:
            sys.exit(f"convert-fsrcnn: {n} has shape {consts[n].shape}, expected {shape}")
    layers = []
    for i, n in enumerate(names):
        w = torch.from_numpy(consts[n].transpose(3, 2, 0, 1).copy())  # TensorFlow's HWIO to OIHW
        last = i == len(names) - 1
        conv = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], padding=w.shape[2] // 2, bias=not last)
        conv.weight.data.copy_(w)
        if not last:
            conv.bias.data.copy_(torch.from_numpy(consts[f"b{i + 1}"]))
        layers.append(conv)
        if not last:
            prelu = torch.nn.PReLU(w.shape[0])
            prelu.weight.data.copy_(torch.from_numpy(consts[f"alpha{i + 1}"]))
            layers.append(prelu)
    out_bias = torch.from_numpy(consts[f"b{M + 4}"]).reshape(1, 1, 1, 1)
    model = Fsrcnn(torch.nn.Sequential(*layers), out_bias).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def psnr(a, b):
    return 10 * math.log10(1.0 / float(((a - b) ** 2).mean()))


def check(model, path):
    from PIL import Image
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255
    h, w = (rgb.shape[0] // SCALE) * SCALE, (rgb.shape[1] // SCALE) * SCALE
    luma = torch.from_numpy(rgb[:h, :w] @ np.array([0.299, 0.587, 0.114], np.float32))[None, None]
    # Shrunk as its training data was (OpenCV's INTER_CUBIC, no antialiasing).
    small = F.interpolate(luma, size=(h // SCALE, w // SCALE), mode="bicubic", align_corners=False)
    with torch.no_grad():
        learned = model(small).clamp(0, 1)
    bicubic = F.interpolate(small, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
    ours, theirs = psnr(learned, luma), psnr(bicubic, luma)
    print(f"convert-fsrcnn: {path}, 4x down and back: FSRCNN {ours:.2f} dB, bicubic {theirs:.2f} dB")
    if ours <= theirs:
        sys.exit("convert-fsrcnn: the network does not beat bicubic; the conversion is wrong")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pb", help="FSRCNN_x4.pb")
    ap.add_argument("out", help="the TorchScript upscaler to write")
    ap.add_argument("--check", metavar="IMAGE", help="an RGB image the network must upscale better than bicubic")
    args = ap.parse_args()
    buf, digest = read_checked(args.pb, SHA256, SOURCE)
    model = build(constants(buf))
    save_purifier_network(model, args.out, "convert-fsrcnn", check, args.check,
                          f"4x luma upscaler; source {SOURCE}, sha256 {digest}, licence {LICENCE}")


if __name__ == "__main__":
    main()
