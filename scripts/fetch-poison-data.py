#!/usr/bin/python3
"""Fetches and prepares the images bench/poison.sh trains learners on, from the manifests in
bench/poison/data/ (one row per image: concept, GitHub repository, commit, path, git blob id,
licence). Nothing it writes belongs in the repository.

    scripts/fetch-poison-data.py OUT [--sets emoji,trashnet] [--git-dir owner/name=PATH ...]

Each file is downloaded from raw.githubusercontent.com at the recorded commit, or read from a
local clone given by --git-dir (a bare or normal git directory of that repository, for
machines without network), and checked against its git blob id (a file that differs is an
error, never used). Prepared as:
  OUT/emoji/{animal,food,drink}/*.png   Noto Emoji (Apache-2.0 or OFL-1.1) and EmojiTwo
                                        (CC-BY-4.0) at 512 x 512, flat-colour illustrations
                                        composited on white (they are transparent);
  OUT/trashnet/{glass,metal,paper}/*.jpg  TrashNet photographs (MIT), 512 x 384, as published.
OUT/<set>/LICENCES.txt lists every image's source and licence; the totals are printed.
"""
import argparse
import csv
import hashlib
import io
import os
import subprocess
import sys
import urllib.request

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFESTS = os.path.join(HERE, "..", "bench", "poison", "data")


def blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def fetch(row, git_dirs):
    local = git_dirs.get(row["repo"])
    if local:
        return subprocess.run(["git", "--git-dir", local, "cat-file", "blob", row["blob"]],
                              capture_output=True, check=True).stdout
    url = f"https://raw.githubusercontent.com/{row['repo']}/{row['commit']}/{row['path']}"
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def prepare(data, name, out):
    """Flat illustrations on white (a transparent PNG read as RGB would be black); photos as they are."""
    if name.endswith(".png"):
        im = Image.open(io.BytesIO(data)).convert("RGBA")
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        Image.alpha_composite(white, im).convert("RGB").save(out, format="PNG")
    else:
        with open(out, "wb") as f:
            f.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--sets", default="emoji,trashnet")
    ap.add_argument("--git-dir", action="append", default=[], metavar="OWNER/NAME=PATH")
    a = ap.parse_args()
    git_dirs = dict(g.split("=", 1) for g in a.git_dir)
    for name in a.sets.split(","):
        manifest = os.path.join(MANIFESTS, name + ".csv")
        if not os.path.exists(manifest):
            sys.exit(f"fetch-poison-data: no manifest {manifest}")
        rows = list(csv.DictReader(open(manifest)))
        counts, licences = {}, []
        for row in rows:
            folder = os.path.join(a.out, name, row["concept"])
            os.makedirs(folder, exist_ok=True)
            # Two sets may use one file name: the repository's name keeps them apart.
            stem = row["repo"].split("/")[1].lower() + "-" + os.path.basename(row["path"])
            target = os.path.join(folder, stem)
            if not os.path.exists(target):
                try:
                    data = fetch(row, git_dirs)
                except Exception as e:  # noqa: BLE001 - one line naming the file, then stop
                    sys.exit(f"fetch-poison-data: {row['repo']}:{row['path']}: {e}")
                if blob_id(data) != row["blob"]:
                    sys.exit(f"fetch-poison-data: {row['repo']}:{row['path']}: content differs from blob {row['blob']}")
                prepare(data, row["path"], target + ".part")  # whole files only, even when interrupted
                os.replace(target + ".part", target)
            counts[row["concept"]] = counts.get(row["concept"], 0) + 1
            licences.append(f"{row['concept']}/{stem}\t{row['licence']}\thttps://github.com/{row['repo']}/blob/{row['commit']}/{row['path']}")
        with open(os.path.join(a.out, name, "LICENCES.txt"), "w") as f:
            f.write("\n".join(licences) + "\n")
        kinds = sorted({r["licence"] for r in rows})
        print(f"{name}: " + ", ".join(f"{c} {n}" for c, n in sorted(counts.items())) + "; licences: " + "; ".join(kinds))


if __name__ == "__main__":
    main()
