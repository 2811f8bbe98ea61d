#!/usr/bin/python3
"""Renders belladonna's sample artworks into samples/ (procedural, fixed seed, so the
project owns them and may license them freely; see samples/README).

Needs numpy and Pillow (Debian: python3-numpy python3-pil). Run: scripts/make-samples.py [OUTDIR]
Formats on purpose: PNG RGBA with transparency, 8-bit gray PNG, 16-bit RGB PNG, and a JPEG with
EXIF (orientation 6, stored rotated) and an ICC profile, so the samples exercise the I/O paths.
"""
import io
import os
import sys

import numpy as np
from PIL import Image, ImageCms, ImageDraw, ImageFilter

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "samples")
RNG = np.random.default_rng(20240611)


def value_noise(h, w, scale, octaves=5, persistence=0.5):
    """Fractal value noise in [0,1]: bilinear-upsampled random grids, summed over octaves."""
    total = np.zeros((h, w))
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        cells = max(2, int(scale * 2 ** o))
        grid = RNG.random((cells + 1, cells + 1))
        ys = np.linspace(0, cells, h, endpoint=False)
        xs = np.linspace(0, cells, w, endpoint=False)
        y0, x0 = ys.astype(int), xs.astype(int)
        fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
        fy, fx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)  # smoothstep
        a = grid[y0][:, x0]
        b = grid[y0][:, x0 + 1]
        c = grid[y0 + 1][:, x0]
        d = grid[y0 + 1][:, x0 + 1]
        total += amp * ((a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy)
        norm += amp
        amp *= persistence
    return total / norm


def flat_illustration():
    """Flat-colour poster (a fox under a sun) on a transparent background."""
    w = h = 768
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.rounded_rectangle((24, 24, w - 24, h - 24), radius=90, fill=(252, 226, 170, 255))
    d.ellipse((470, 90, 660, 280), fill=(244, 138, 62, 255))
    d.polygon([(24, 560), (200, 400), (380, 540), (560, 380), (744, 560), (744, 744), (24, 744)],
              fill=(74, 140, 110, 255))
    d.polygon([(24, 640), (300, 560), (744, 650), (744, 744), (24, 744)], fill=(46, 98, 84, 255))
    # fox: body, head, ears, tail, white tip, eye
    d.ellipse((250, 470, 450, 590), fill=(214, 96, 40, 255))
    d.polygon([(420, 500), (520, 440), (540, 520), (470, 560)], fill=(214, 96, 40, 255))
    d.polygon([(482, 452), (496, 390), (520, 446)], fill=(214, 96, 40, 255))
    d.polygon([(505, 448), (540, 396), (540, 470)], fill=(170, 70, 30, 255))
    d.polygon([(262, 520), (140, 470), (110, 540), (250, 570)], fill=(214, 96, 40, 255))
    d.polygon([(140, 470), (110, 540), (150, 520)], fill=(250, 246, 236, 255))
    d.ellipse((500, 468, 512, 480), fill=(30, 30, 40, 255))
    # a half-transparent cloud so alpha is not just 0/255
    d.ellipse((110, 150, 330, 240), fill=(255, 255, 255, 150))
    d.ellipse((190, 110, 360, 220), fill=(255, 255, 255, 150))
    im.save(os.path.join(OUT, "flat-illustration.png"), optimize=True)


def line_drawing():
    """Ink drawing: a spiral shell and hatching, black lines on paper, 8-bit gray."""
    w, h = 1024, 768
    im = Image.new("L", (w, h), 246)
    d = ImageDraw.Draw(im)
    cx, cy = 430, 400
    t = np.linspace(0, 7 * np.pi, 900)
    r = 6 * np.exp(0.16 * t)
    pts = list(zip(cx + r * np.cos(t), cy + r * np.sin(t)))
    d.line(pts, fill=20, width=4)
    for k in range(0, 900, 25):  # shell ribs from the spiral towards the centre
        x, y = pts[k]
        d.line([(x, y), (cx + (x - cx) * 0.55, cy + (y - cy) * 0.55)], fill=40, width=2)
    for i in range(60):  # hatched ground
        x0 = 80 + i * 14
        d.line([(x0, 690), (x0 + 40, 640)], fill=60, width=2)
    d.line([(60, 690), (980, 690)], fill=15, width=5)
    for i in range(12):  # a few free strokes (grass)
        x = 720 + i * 20
        d.arc((x, 520, x + 90, 800), 190, 260, fill=25, width=3)
    im = im.filter(ImageFilter.GaussianBlur(0.6))  # soften like ink on paper
    paper = (value_noise(h, w, 40, octaves=2) - 0.5) * 10
    arr = np.clip(np.asarray(im, dtype=np.float64) + paper, 0, 255).astype(np.uint8)
    Image.fromarray(arr, "L").save(os.path.join(OUT, "line-drawing.png"), optimize=True)


def painterly_16bit():
    """Textured 'oil' still life: colour fields broken into brush-stroke noise, 16-bit RGB."""
    w, h = 512, 384
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    base = np.stack([0.25 + 0.5 * x, 0.2 + 0.3 * (1 - y), 0.45 - 0.25 * x], -1)
    # a vase and an apple as soft-edged blobs
    vase = np.exp(-(((x - 0.35) / 0.11) ** 2 + ((y - 0.55) / 0.3) ** 2) ** 2)
    apple = np.exp(-(((x - 0.68) / 0.09) ** 2 + ((y - 0.7) / 0.11) ** 2) ** 2)
    base = base * (1 - vase[..., None]) + np.array([0.15, 0.3, 0.6]) * vase[..., None]
    base = base * (1 - apple[..., None]) + np.array([0.8, 0.15, 0.1]) * apple[..., None]
    # brush strokes: short dabs whose direction follows a smooth flow field and whose colour
    # is the underlying colour with a jitter, drawn at 2x and downsampled
    S = 2
    canvas = Image.fromarray(np.clip(base * 255, 0, 255).astype(np.uint8), "RGB").resize((w * S, h * S))
    d = ImageDraw.Draw(canvas)
    flow = value_noise(h, w, 3, octaves=3) * 2 * np.pi
    for _ in range(9000):
        px, py = RNG.random() * w, RNG.random() * h
        iy, ix = min(int(py), h - 1), min(int(px), w - 1)
        col = np.clip(base[iy, ix] * (0.85 + 0.3 * RNG.random()) + RNG.normal(0, 0.03, 3), 0, 1)
        ang, length = flow[iy, ix], 6 + 14 * RNG.random()
        dx, dy = np.cos(ang) * length / 2, np.sin(ang) * length / 2
        d.line([((px - dx) * S, (py - dy) * S), ((px + dx) * S, (py + dy) * S)],
               fill=tuple(int(c * 255) for c in col), width=int(S * (2 + 4 * RNG.random())))
    canvas = canvas.filter(ImageFilter.GaussianBlur(0.8)).resize((w, h), Image.LANCZOS)
    grain = value_noise(h, w, 120, octaves=2)  # canvas weave; sub-8-bit detail for the 16-bit file
    img = np.asarray(canvas, dtype=np.float64) / 255 + 0.03 * (grain[..., None] - 0.5)
    img = np.clip(img, 0, 1)
    data = np.round(img * 65535).astype(">u2")  # PNG stores 16-bit big-endian
    # Pillow cannot write 16-bit RGB PNG; write it with a minimal encoder (zlib + chunks).
    import struct
    import zlib

    def chunk(t, payload):
        c = struct.pack(">I", len(payload)) + t + payload
        return c + struct.pack(">I", zlib.crc32(t + payload) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + data[r].tobytes() for r in range(h))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
    png += chunk(b"tEXt", b"Author\x00belladonna sample generator")
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(os.path.join(OUT, "painterly-16bit.png"), "wb") as f:
        f.write(png)


def landscape_photo():
    """Photo-like fractal landscape: sky gradient, clouds, ridges, lake, film grain. JPEG with
    EXIF (orientation 6: stored rotated a quarter turn, shown upright) and an sRGB ICC profile."""
    w, h = 1024, 683
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    sky = np.stack([0.45 + 0.4 * y, 0.62 + 0.25 * y, 0.9 - 0.1 * y], -1)
    clouds = np.clip((value_noise(h, w, 4, 6) - 0.45) * 3, 0, 1)
    img = sky * (1 - 0.7 * clouds[..., None]) + 0.95 * 0.7 * clouds[..., None]
    for i, (level, col) in enumerate([(0.55, (0.42, 0.47, 0.58)), (0.63, (0.25, 0.35, 0.3)),
                                      (0.72, (0.16, 0.26, 0.16))]):
        ridge = level + 0.12 * (value_noise(1, w, 3 + 2 * i, 6)[0] - 0.5)
        mask = y > ridge[None, :]
        shade = 0.85 + 0.3 * value_noise(h, w, 30, 4)
        img[mask] = (np.array(col) * shade[..., None])[mask]
    lake = y > 0.86
    refl = img[np.clip((2 * 0.86 - y[:, 0]) * h, 0, h - 1).astype(int)]
    img[lake] = (0.6 * refl + 0.4 * np.array([0.2, 0.3, 0.45]))[lake]
    img += RNG.normal(0, 0.015, img.shape)  # film grain
    upright = Image.fromarray(np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")
    stored = upright.transpose(Image.ROTATE_90)  # orientation 6 = viewer turns it 90 deg clockwise
    exif = Image.Exif()
    exif[0x0112] = 6                                   # Orientation
    exif[0x010F] = "belladonna"                        # Make
    exif[0x0131] = "scripts/make-samples.py"           # Software
    exif[0x013B] = "belladonna project"                # Artist
    exif[0x8298] = "CC0 1.0 (public domain dedication)"  # Copyright
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    stored.save(os.path.join(OUT, "landscape-photo.jpg"), quality=92, subsampling=0,
                exif=exif.tobytes(), icc_profile=icc, optimize=True)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    flat_illustration()
    line_drawing()
    painterly_16bit()
    landscape_photo()
    for name in sorted(os.listdir(OUT)):
        print(f"{name}: {os.path.getsize(os.path.join(OUT, name))} bytes")
