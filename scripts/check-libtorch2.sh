#!/usr/bin/env bash
# Compiles (without linking) what a GPU build builds against libtorch 2.x's headers: the
# library, the CLI, the tools, the benchmarks and the gpu tests. Debian 12's libtorch is
# 1.13, while GPU machines build against a pip PyTorch 2.x (scripts/gpu-check.sh), which this
# machine cannot run; without this, an API that 2.x removed or deprecated shows up only on a
# lent GPU. The headers are Debian 13's libtorch-dev (2.6), unpacked into the build folder;
# deprecation warnings are errors, as a 2.x build would print them on every compile.
# Needs a configured build folder (its compile_commands.json; scripts/setup.sh makes one)
# and network to the package mirror. About 10 minutes on 2 cores.
# Usage: scripts/check-libtorch2.sh [BUILD_DIR]
# Environment: BD_DEBIAN_MIRROR (default http://deb.debian.org/debian), BD_JOBS (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
mirror=${BD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
fail() { echo "check-libtorch2: $*" >&2; exit 1; }
# No mirror is not a fault of the code: exit 77 (automake's and CTest's "skipped").
skip() { echo "check-libtorch2: SKIPPED: $*" >&2; exit 77; }
[[ -f $build/compile_commands.json ]] || fail "$build/compile_commands.json is missing: run scripts/setup.sh first"
root=$build/libtorch2
if [[ ! -f $root/usr/include/torch/csrc/api/include/torch/version.h ]]; then
  # The file's name moves with Debian's revisions: read it from the suite's index.
  index=$(curl -fsS --max-time 120 "$mirror/dists/trixie/main/binary-amd64/Packages.xz" | xz -dc) \
    || skip "cannot read $mirror/dists/trixie's package index"
  file=$(awk '/^Package: /{p = ($2 == "libtorch-dev")} p && /^Filename: /{print $2; exit}' <<<"$index")
  [[ -n $file ]] || fail "no libtorch-dev in Debian 13's index"
  deb=$(mktemp --suffix=.deb)
  curl -fsS --max-time 300 -o "$deb" "$mirror/$file" || { rm -f "$deb"; skip "cannot download $mirror/$file"; }
  rm -rf "$root" && mkdir -p "$root"
  dpkg -x "$deb" "$root"
  rm -f "$deb"
fi
version=$(awk '/define TORCH_VERSION_(MAJOR|MINOR|PATCH)/{v = v (v == "" ? "" : ".") $3} END{print v}' \
  "$root/usr/include/torch/csrc/api/include/torch/version.h")
echo "check-libtorch2: compiling against libtorch $version's headers"
python3 - "$build/compile_commands.json" "$PWD/$root/usr/include" "${BD_JOBS:-$(nproc)}" "$PWD" <<'PY'
import json, os, shlex, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
commands, include, jobs, repo = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
api = "/usr/include/torch/csrc/api/include"  # where Debian 12's libtorch puts its C++ API

def built_for_a_gpu(path):
    inside = os.path.relpath(path, repo)
    return inside.split("/")[0] in ("perturb", "src", "encoders", "cli", "bench") or \
        inside.startswith(("tests/util/", "tests/tools/")) or inside == "tests/perturb/test_gpu.cpp"

def compile_only(entry):
    args, out, i = shlex.split(entry["command"]), [], 0
    while i < len(args):
        if args[i] == "-o":
            i += 2
            continue
        if args[i] == "-isystem" and args[i + 1] == api:
            # 2.x's headers first; the rest of /usr/include stays after them.
            out += ["-isystem", include + "/torch/csrc/api/include", "-isystem", include]
            i += 2
            continue
        out.append(args[i])
        i += 1
    run = subprocess.run(out + ["-fsyntax-only", "-Werror=deprecated-declarations"], cwd=entry["directory"],
                         capture_output=True, text=True)
    return entry["file"], run.returncode, run.stderr

entries = [e for e in json.load(open(commands)) if built_for_a_gpu(e["file"])]
failed = 0
with ThreadPoolExecutor(jobs) as pool:
    for path, code, errors in pool.map(compile_only, entries):
        if code != 0:
            failed += 1
            print(f"FAILED {path}")
            print("\n".join(errors.splitlines()[:30]))
print(f"check-libtorch2: {len(entries) - failed} of {len(entries)} sources compile")
sys.exit(1 if failed else 0)
PY
