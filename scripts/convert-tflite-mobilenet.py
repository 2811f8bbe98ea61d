#!/usr/bin/python3
"""Converts the backbone of an 8-bit quantised MobileNetV2 TFLite model
(mobilenet_v2_1.0_224_quant.tflite) into a float TorchScript image encoder with belladonna's
JSON sidecar, for bench/effect: a trained 224-px encoder of the MobileNet class on a CPU.

    scripts/convert-tflite-mobilenet.py MODEL.tflite OUT.pt

MODEL.tflite is a Keras MobileNetV2 with ImageNet weights, retrained on top and quantised as
in Coral's Edge TPU transfer-learning tutorial; many public repositories hold one (e.g.
helder0xff/coral_transfer). Each int8/uint8 weight is dequantised with its scales and zero
points (per channel where the model has them), each int32 bias likewise; the activations run
in float (ReLU6 as trained). The encoder maps [N, 3, 224, 224] RGB in [0, 1], the range the
model was fed, to the 1280-d global average of the backbone's last layer ("out_relu"); the
retrained head is left out.

    scripts/convert-tflite-mobilenet.py MODEL.tflite OUT.pt --taps block_5_add,block_12_add

With --taps the embedding also holds the global averages of those intermediate layers (Keras's
block names): each part, the last layer's included, is scaled to unit length and the parts are
concatenated, so the cosine between two embeddings is the mean of the parts' cosines;
--last-weight W scales the last layer's part (its cosine then weighs W^2 against 1 for each
tap). Aiming at mid-level features as well as the last layer's is how feature-level attacks
make a change carry to networks they never saw (docs/POISONING.md, "Intermediate layers in
the aim", measures it).

The weights are never part of belladonna: write OUT outside the repository or under an ignored name (*.pt is ignored). Needs Debian's python3-torch; reads
the TFLite flatbuffer itself (table field numbers from TFLite's schema.fbs).
"""
import argparse
import json
import struct
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F


class Table:
    """One flatbuffer table: fields by their number in the schema."""

    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos
        self.vtable = pos - struct.unpack_from("<i", buf, pos)[0]
        self.vsize = struct.unpack_from("<H", buf, self.vtable)[0]

    def _offset(self, field):
        at = 4 + 2 * field
        return struct.unpack_from("<H", self.buf, self.vtable + at)[0] if at < self.vsize else 0

    def scalar(self, field, fmt, default=0):
        o = self._offset(field)
        return struct.unpack_from("<" + fmt, self.buf, self.pos + o)[0] if o else default

    def _target(self, field):
        o = self._offset(field)
        if not o:
            return None
        at = self.pos + o
        return at + struct.unpack_from("<I", self.buf, at)[0]

    def table(self, field):
        t = self._target(field)
        return Table(self.buf, t) if t is not None else None

    def vector(self, field, fmt):
        t = self._target(field)
        if t is None:
            return []
        n = struct.unpack_from("<I", self.buf, t)[0]
        return list(struct.unpack_from(f"<{n}{fmt}", self.buf, t + 4))

    def bytes(self, field):
        t = self._target(field)
        if t is None:
            return b""
        n = struct.unpack_from("<I", self.buf, t)[0]
        return self.buf[t + 4:t + 4 + n]

    def tables(self, field):
        t = self._target(field)
        if t is None:
            return []
        n = struct.unpack_from("<I", self.buf, t)[0]
        out = []
        for i in range(n):
            at = t + 4 + 4 * i
            out.append(Table(self.buf, at + struct.unpack_from("<I", self.buf, at)[0]))
        return out

    def string(self, field):
        return self.bytes(field).decode()


# BuiltinOperator, Padding, ActivationFunctionType and TensorType numbers from TFLite's schema.
ADD, CONV_2D, DEPTHWISE_CONV_2D, PAD, QUANTIZE = 0, 3, 4, 34, 114
SAME = 0
ACT_NONE, ACT_RELU6 = 0, 3
NUMPY_TYPE = {2: np.int32, 3: np.uint8, 9: np.int8}
BACKBONE_END = "out_relu"  # Keras's name for MobileNetV2's last ReLU6, before the head


def stored(model, tensor):
    """A constant tensor's values as stored (its type and shape), as a numpy array."""
    t = model["tensors"][tensor]
    raw = model["buffers"][t.scalar(2, "I")].bytes(0)
    return np.frombuffer(raw, dtype=NUMPY_TYPE[t.scalar(1, "b")]).reshape(t.vector(0, "i"))


def dequantised(model, tensor):
    t = model["tensors"][tensor]
    q = t.table(4)
    shape = t.vector(0, "i")
    values = stored(model, tensor).astype(np.float64)
    scale, zero = np.array(q.vector(2, "f")), np.array(q.vector(3, "q"), dtype=np.float64)
    if scale.size > 1:  # per channel, along the quantised dimension
        along = [1] * len(shape)
        along[q.scalar(6, "i")] = scale.size
        scale, zero = scale.reshape(along), zero.reshape(along)
    return torch.tensor((values - zero) * scale, dtype=torch.float32)


def same_padding(size, kernel, stride):
    """TensorFlow's SAME padding, which puts the odd pixel after, not before."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Backbone(torch.nn.Module):
    """The TFLite graph's operators up to the backbone's end, as float torch operations;
    `taps` names intermediate layers whose averages join the embedding."""

    def __init__(self, model, taps=(), last_weight=1.0):
        super().__init__()
        self.last_weight = last_weight
        self.ops = []  # (kind, inputs, output, params)
        self.weights = torch.nn.ParameterList()
        codes = [max(c.scalar(0, "b"), c.scalar(3, "i")) for c in model["codes"]]
        self.input = model["inputs"][0]
        self.output = None
        for op in model["operators"]:
            code, ins, outs = codes[op.scalar(0, "I")], op.vector(1, "i"), op.vector(2, "i")
            opts = op.table(4)
            if code in (CONV_2D, DEPTHWISE_CONV_2D):
                w = dequantised(model, ins[1])  # OHWI (conv) or 1HWO (depthwise)
                if code == DEPTHWISE_CONV_2D:
                    w, groups, act = w.permute(3, 0, 1, 2), w.shape[3], opts.scalar(4, "b")
                else:
                    w, groups, act = w.permute(0, 3, 1, 2), 1, opts.scalar(3, "b")
                if act not in (ACT_NONE, ACT_RELU6):
                    sys.exit(f"unexpected fused activation {act}")
                self.weights.append(torch.nn.Parameter(w.contiguous(), requires_grad=False))
                self.weights.append(torch.nn.Parameter(dequantised(model, ins[2]), requires_grad=False))
                self.ops.append(("conv", ins[0], outs[0],
                                 dict(w=len(self.weights) - 2, stride=opts.scalar(1, "i"),
                                      same=opts.scalar(0, "b") == SAME, groups=groups, act=act)))
            elif code == ADD:
                self.ops.append(("add", ins[:2], outs[0], {}))
            elif code == PAD:  # constant, NHWC: [[0, 0], [top, bottom], [left, right], [0, 0]]
                pads = stored(model, ins[1])
                self.ops.append(("pad", ins[0], outs[0], dict(pad=(int(pads[2, 0]), int(pads[2, 1]),
                                                                   int(pads[1, 0]), int(pads[1, 1])))))
            elif code == QUANTIZE:
                self.ops.append(("same", ins[0], outs[0], {}))
            else:
                sys.exit(f"unexpected operator {code} before the backbone's end")
            if BACKBONE_END in model["tensors"][outs[0]].string(3):
                self.output = outs[0]
                break
        if self.output is None:
            sys.exit(f"no tensor named *{BACKBONE_END}* in the graph")
        self.taps = []
        for name in taps:
            # A layer's last operator gives its output (a fused name lists the layer first).
            found = [out for _, _, out, _ in self.ops
                     if f"/{name}/" in model["tensors"][out].string(3).split(";")[0]]
            if not found:
                sys.exit(f"--taps: no layer named {name} before the backbone's end")
            self.taps.append(found[-1])

    def forward(self, x):
        values = {self.input: x}
        for kind, ins, out, p in self.ops:
            if kind == "conv":
                h = values[ins]
                w, b = self.weights[p["w"]], self.weights[p["w"] + 1]
                k, pad = int(w.shape[-1]), 0
                if p["same"] and k > 1:
                    top, bottom = same_padding(int(h.shape[-2]), k, p["stride"])
                    left, right = same_padding(int(h.shape[-1]), k, p["stride"])
                    if (top, left) == (bottom, right):
                        pad = top
                    else:
                        h = F.pad(h, (left, right, top, bottom))
                h = F.conv2d(h, w, b, stride=p["stride"], padding=pad, groups=p["groups"])
                # relu6, not clamp(0, 6): the same values, but with clamp a forward and
                # backward pass took 1.7x as long (libtorch 1.13, 2 threads).
                values[out] = F.relu6(h) if p["act"] == ACT_RELU6 else h
            elif kind == "add":
                values[out] = values[ins[0]] + values[ins[1]]
            elif kind == "pad":
                values[out] = F.pad(values[ins], p["pad"])
            else:
                values[out] = values[ins]
        if not self.taps:
            return values[self.output].mean(dim=(2, 3))
        parts = [values[t].mean(dim=(2, 3)) for t in self.taps + [self.output]]
        parts = [F.normalize(p, dim=1) for p in parts]
        parts[-1] = self.last_weight * parts[-1]
        return torch.cat(parts, dim=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tflite")
    ap.add_argument("out")
    ap.add_argument("--taps", default="", help="intermediate layers whose averages join the "
                    "embedding, comma-separated Keras block names (e.g. block_5_add)")
    ap.add_argument("--last-weight", type=float, default=1.0,
                    help="with --taps: the scale of the last layer's part (default 1)")
    args = ap.parse_args()
    taps = [t for t in args.taps.split(",") if t]
    with open(args.tflite, "rb") as f:
        buf = f.read()
    if buf[4:8] != b"TFL3":
        sys.exit(f"{args.tflite}: not a TFLite model")
    root = Table(buf, struct.unpack_from("<I", buf, 0)[0])
    graph = root.tables(2)[0]
    model = dict(codes=root.tables(1), buffers=root.tables(4), tensors=graph.tables(0),
                 inputs=graph.vector(1, "i"), operators=graph.tables(3))
    if args.last_weight <= 0 or (args.last_weight != 1.0 and not taps):
        sys.exit("--last-weight needs --taps and a positive value")
    net = Backbone(model, taps, args.last_weight).eval()
    # The graph is fixed for 224 px, so the tracer's warnings about sizes read as numbers
    # (the padding) do not apply.
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    traced = torch.jit.trace(net, torch.rand(2, 3, 224, 224))
    traced.save(args.out)
    dim = traced(torch.rand(1, 3, 224, 224)).shape[1]
    name = "-".join(["mobilenet_v2_1.0_224_quant-backbone"] + taps)
    if args.last_weight != 1.0:
        name += f"-last{args.last_weight:g}"
    sidecar = {"name": name, "input_size": 224,
               "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "embed_dim": int(dim)}
    with open(args.out + ".json", "w") as f:
        json.dump(sidecar, f, indent=1)
    print(f"wrote {args.out} (+ .json): {len(net.ops)} operators, {dim}-d features")


if __name__ == "__main__":
    main()
