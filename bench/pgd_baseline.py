#!/usr/bin/python3
"""The same PGD written plainly in Python with libtorch (the yardstick of the speed goal).

    /usr/bin/python3 bench/pgd_baseline.py --model ENC.pt --target-image A.png [...] \
        --steps 40 --views 4 -o OUTDIR IMAGE...

ENC.pt is a TorchScript image encoder with its JSON sidecar (ENC.pt.json: input_size, mean,
std), as `bd-make-tiny-model DIR --format torchscript` or `--size mobilenet` writes it.
For each image: L-inf 8/255 sign-PGD toward the anchors' mean embedding, each step a batch
of VIEWS views as belladonna drew them before the fused views (CLIP's framing, random resized
crops of the full-resolution image with a differentiable JPEG, rescale, blur, noise,
flip), cosine step size; writes OUTDIR/<name>.png and prints the seconds it took.
Uses all cores, like belladonna. Not part of the test suite: bench/bench_vs_python.sh
runs it beside `belladonna protect`. Needs Debian's python3-torch and python3-pil.
"""
import argparse, json, math, os, random, sys, time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def load_image(path):
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(a).permute(2, 0, 1).contiguous()


def resize(x, h, w, mode="bilinear"):
    if x.shape[2] == h and x.shape[3] == w:
        return x
    return F.interpolate(x, size=(h, w), mode=mode, align_corners=False, antialias=True)


def clip_framing(x, s):
    h, w = x.shape[2:]
    scale = s / min(h, w)
    nh, nw = max(s, round(h * scale)), max(s, round(w * scale))
    y = resize(x, nh, nw, "bicubic")
    top, left = (nh - s) // 2, (nw - s) // 2
    return y[:, :, top:top + s, left:left + s].clamp(0, 1)


LUMA = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
        14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]
CHROMA = [17, 18, 24, 47] + [99] * 4 + [18, 21, 26, 66] + [99] * 4 + [24, 26, 56] + [99] * 5 + [47, 66] + [99] * 38
DCT = torch.tensor([[(math.sqrt(1 / 8) if k == 0 else math.sqrt(2 / 8)) * math.cos(math.pi * (2 * n + 1) * k / 16)
                     for n in range(8)] for k in range(8)])


def table(base, q):
    scale = 5000 / q if q < 50 else 200 - 2 * q
    return torch.tensor([min(255.0, max(1.0, math.floor((b * scale + 50) / 100))) for b in base]).view(8, 8)


def compress(plane, t):
    n, h, w = plane.shape
    b = plane.view(n, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)
    c = DCT @ b @ DCT.t() / t
    r = c.round().detach()
    c = (r + (c - r) ** 3) * t
    return (DCT.t() @ c @ DCT).permute(0, 1, 3, 2, 4).reshape(n, h, w)


def diff_jpeg(x, q):
    h, w = x.shape[2:]
    ph, pw = (16 - h % 16) % 16, (16 - w % 16) % 16
    x = F.pad(x, (0, pw, 0, ph), mode="replicate") * 255
    r, g, b = x.unbind(1)
    y = 0.299 * r + 0.587 * g + 0.114 * b - 128
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b
    y = compress(y, table(LUMA, q)) + 128
    c = F.avg_pool2d(torch.stack([cb, cr], 1), 2)
    ch, cw = c.shape[2:]
    c = compress(c.reshape(-1, ch, cw), table(CHROMA, q)).view(-1, 2, ch, cw)
    cb, cr = F.interpolate(c, size=(ch * 2, cw * 2), mode="bilinear", align_corners=False).unbind(1)
    out = torch.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], 1) / 255
    return out[:, :, :h, :w].clamp(0, 1)


def blur(x, sigma):
    k = torch.tensor([math.exp(-(i - 2) ** 2 / (2 * sigma * sigma)) for i in range(5)])
    k = torch.outer(k, k) / k.sum() ** 2
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), k.expand(3, 1, 5, 5).contiguous(), groups=3)


def random_view(x, s, rng, noise):
    h, w = x.shape[2:]
    jpeg = rng.random() < 0.5
    area = rng.uniform(0.25, 1.0) * h * w
    aspect = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
    ch, cw = min(h, max(1, round(math.sqrt(area / aspect)))), min(w, max(1, round(math.sqrt(area * aspect))))
    top, left = rng.randint(0, h - ch), rng.randint(0, w - cw)
    if rng.random() < 0.25:
        top = left = 0
        ch, cw = h, w
    if jpeg:
        top, left = top - top % 16, left - left % 16
    v = x[:, :, top:top + ch, left:left + cw]
    if jpeg:
        if min(ch, cw) > 4 * s:
            f = 4 * s / min(ch, cw)
            v = resize(v, round(ch * f), round(cw * f))
        v = diff_jpeg(v, int(rng.uniform(50, 96)))
        ch, cw = v.shape[2:]
    if rng.random() < 0.3:
        f = rng.uniform(0.4, 0.9)
        small = max(8, round(min(ch, cw) * f))
        f = small / min(ch, cw)
        v = resize(v, max(1, round(ch * f)), max(1, round(cw * f)))
    v = resize(v, s, s)
    if rng.random() < 0.3:
        v = blur(v, rng.uniform(0.4, 1.2))
    if rng.random() < 0.5:
        v = v + noise[rng.randrange(len(noise))] * rng.uniform(0, 0.02)
    if rng.random() < 0.5:
        v = v.flip(3)
    return v.clamp(0, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--target-image", action="append", required=True)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--views", type=int, default=4)
    ap.add_argument("--epsilon", type=float, default=8)
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    t0 = time.time()
    torch.set_num_threads(os.cpu_count())  # Debian's build starts with one thread
    torch.manual_seed(0)
    side = json.load(open(a.model + ".json"))
    s = side["input_size"]
    mean = torch.tensor(side.get("mean", [0, 0, 0])).view(1, 3, 1, 1)
    std = torch.tensor(side.get("std", [1, 1, 1])).view(1, 3, 1, 1)
    enc = torch.jit.load(a.model).eval()
    for p in enc.parameters():
        p.requires_grad_(False)

    def embed(v):
        e = enc((v - mean) / std)
        return e / e.norm(dim=-1, keepdim=True)

    with torch.no_grad():
        t = embed(torch.cat([clip_framing(load_image(p)[None], s) for p in a.target_image])).mean(0)
        t = t / t.norm()
    noise = [torch.randn(1, 3, s, s) for _ in range(4)]
    os.makedirs(a.out, exist_ok=True)
    eps = a.epsilon / 255
    for path in a.images:
        rng = random.Random(0)
        x = load_image(path)
        delta = torch.zeros_like(x, requires_grad=True)
        for step in range(a.steps):
            xd = (x + delta)[None]
            views = torch.cat([clip_framing(xd, s)] + [random_view(xd, s, rng, noise) for _ in range(a.views - 1)])
            loss = -(embed(views) @ t).mean()
            (g,) = torch.autograd.grad(loss, delta)
            frac = 0.02 + 0.23 * 0.5 * (1 + math.cos(math.pi * step / max(1, a.steps - 1)))
            with torch.no_grad():
                delta -= frac * eps * g.sign()
                delta.copy_(torch.max(torch.min(delta, 1 - x), -x).clamp(-eps, eps))
        out = ((x + delta.detach()).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
        Image.fromarray(out).save(os.path.join(a.out, os.path.splitext(os.path.basename(path))[0] + ".png"))
    print(f"{time.time() - t0:.2f}")


if __name__ == "__main__":
    main()
