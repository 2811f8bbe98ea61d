"""What the trained-network converters (scripts/convert-*.py) share: reading a source file
checked by its sha256, an optional top-5 class check of the full classifier, and saving the
TorchScript encoder with belladonna's JSON sidecar after checking that the saved module
reproduces the eager features and passes gradients to its input; for the clean-ups' networks
(an upscaler, a denoiser), saving the TorchScript module after the same kind of check. Needs Debian's
python3-torch and python3-numpy (python3-pil for the class check).
"""
import hashlib
import json
import sys

import numpy as np
import torch


def read_checked(path, sha256, name):
    """The file's bytes and their sha256; exits with one line when it cannot be read or differs."""
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        sys.exit(f"{path}: {e.strerror}")
    digest = hashlib.sha256(buf).hexdigest()
    if digest != sha256:
        sys.exit(f"{path}: sha256 {digest}, expected {sha256} ({name})")
    return buf, digest


def add_check_arguments(ap, labels_help):
    ap.add_argument("--check", metavar="IMAGE", help="an image whose class the classifier must rank in its top 5")
    ap.add_argument("--expect", metavar="NAME", help="a substring of that class's label")
    ap.add_argument("--labels", metavar="FILE", help=labels_help)


def parse_with_check(ap):
    args = ap.parse_args()
    if args.check and not (args.expect and args.labels):
        ap.error("--check needs --expect and --labels")
    return args


def centre_crop(path, short, size):
    """[1, 3, size, size] RGB in [0, 1]: the short side resized to `short`, the centre square."""
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


def check_top5(probabilities, image, args, classes=1000):
    """Exits unless a label containing args.expect is among the top 5 of probabilities(image)."""
    labels = [line.strip() for line in open(args.labels, encoding="utf-8") if line.strip()][:classes]
    wanted = [i for i, line in enumerate(labels) if args.expect.lower() in line.lower()]
    if not wanted:
        sys.exit(f"--expect {args.expect!r}: no such label in {args.labels}")
    with torch.no_grad():
        p, top = probabilities(image)[0].topk(5)
    print(f"check {args.check}: " + "; ".join(f"{labels[i][:40]} {q:.3f}" for q, i in zip(p.tolist(), top.tolist())))
    if not set(top.tolist()) & set(wanted):
        sys.exit(f"check failed: no label containing {args.expect!r} in the top 5")


def save_encoder(encoder, out, size, name):
    """Traces and saves `encoder` ([N, 3, size, size] RGB in [0, 1] -> [N, D]) with its sidecar
    (mean 0, std 1: any normalisation is inside the module); exits unless the saved module
    matches the eager one within 1e-5 and gradients reach the input. Returns D."""
    torch.manual_seed(0)
    torch.jit.trace(encoder, torch.rand(2, 3, size, size)).save(out)
    reloaded = torch.jit.load(out)
    other = torch.rand(3, 3, size, size)
    with torch.no_grad():
        eager = encoder(other)
        diff = (reloaded(other) - eager).abs().max().item()
    if diff > 1e-5:
        sys.exit(f"{out}: the saved module differs from the eager one by {diff}")
    x = other[:1].clone().requires_grad_(True)
    reloaded(x).sum().backward()
    if not (x.grad is not None and x.grad.abs().sum() > 0):
        sys.exit(f"{out}: no gradient reaches the input")
    dim = int(eager.shape[1])
    sidecar = {"name": name, "input_size": size, "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "embed_dim": dim}
    with open(out + ".json", "w") as f:
        json.dump(sidecar, f, indent=1)
    with open(out, "rb") as f:
        out_digest = hashlib.sha256(f.read()).hexdigest()
    print(f"saved module matches eager features (max diff {diff:.1e}); gradients reach the input")
    print(f"wrote {out} (+ .json): {size} px in, {dim}-d features; sha256 {out_digest}")
    return dim


def save_purifier_network(model, out, tool, check, image, provenance):
    """Scripts `model` (grey planes [N, 1, H, W] in), exits unless the TorchScript module
    reproduces the eager one, runs `check(model, image)` when an image is given, and saves it."""
    scripted = torch.jit.script(model)
    probe = torch.rand(1, 1, 20, 24)
    with torch.no_grad():
        if not torch.allclose(scripted(probe), model(probe), atol=1e-6):
            sys.exit(f"{tool}: the TorchScript module differs from the eager one")
    if image:
        check(model, image)
    scripted.save(out)
    print(f"{tool}: wrote {out}; {provenance}")
