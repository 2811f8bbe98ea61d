#!/usr/bin/env bash
# Compiles (without linking) what a GPU build builds against libtorch 2.x's headers: the
# library, the CLI, the tools, the benchmarks and the gpu tests. Debian 12's libtorch is
# 1.13, while GPU machines build against a pip PyTorch 2.x (scripts/gpu-check.sh), which this
# machine cannot run; without this, an API that 2.x removed or deprecated shows up only on a
# lent GPU. The headers are the newest Debian has, its testing suite's libtorch-dev (2.14.1
# when this was written, December 2026), unpacked into the build folder: a pip PyTorch a GPU
# machine brings is rarely newer, and what 2.x deprecated on the way there is removed by then
# or still deprecated.
# Deprecation warnings are errors, as a 2.x build would print them on every compile. The C++
# standard is the one CMakeLists.txt chooses for that version (C++20 from 2.14 on).
# Needs a configured build folder (its compile_commands.json; scripts/setup.sh makes one)
# and network to the package mirror. About 9 minutes on 2 cores.
# Usage: scripts/check-libtorch2.sh [BUILD_DIR]
# Environment: BD_DEBIAN_MIRROR (default http://deb.debian.org/debian), BD_LIBTORCH2_SUITE
# (default testing; trixie is 2.6), BD_JOBS (default nproc).
set -euo pipefail
build=$(realpath -m "${1:-build}")  # as the caller named it, before the cd
cd "$(dirname "$0")/.."
mirror=${BD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${BD_LIBTORCH2_SUITE:-testing}
fail() { echo "check-libtorch2: $*" >&2; exit 1; }
# No mirror is not a fault of the code: exit 77 (automake's and CTest's "skipped").
skip() { echo "check-libtorch2: SKIPPED: $*" >&2; exit 77; }
[[ -f $build/compile_commands.json ]] || fail "$build/compile_commands.json is missing: run scripts/setup.sh first"
for tool in curl xz dpkg python3; do
  command -v $tool >/dev/null || fail "$tool is missing (scripts/setup.sh installs it)"
done
root=$build/libtorch2-$suite
# A download being unpacked, and the precompiled headers the Python part makes (about
# 1.4 GB): gone however the script ends.
unpacked=""
trap 'rm -rf "$unpacked" "$root/pch"' EXIT
rm -rf "$build/libtorch2"  # where it unpacked before it named the suite
# The suite moves on: its index names the newest package file, unpacked here again whenever
# that changes. Where the index or the file cannot be read, the one unpacked before is checked.
unpacked_from=$(cat "$root/unpacked-from" 2>/dev/null || true)
newest=""
if index=$(curl -fsS --max-time 120 "$mirror/dists/$suite/main/binary-amd64/Packages.xz" | xz -dc); then
  newest=$(awk '/^Package: /{p = ($2 == "libtorch-dev")} p && /^Filename: /{print $2; exit}' <<<"$index")
fi
if [[ -n $newest && $newest != "$unpacked_from" ]]; then
  # Beside the build's files, so the move below is a rename: a run stopped midway leaves no
  # partial folder that a later run would take for whole.
  unpacked=$(mktemp -d "$build/.libtorch2.XXXXXX")
  if curl -fsS --max-time 300 -o "$unpacked/libtorch-dev.deb" "$mirror/$newest"; then
    dpkg -x "$unpacked/libtorch-dev.deb" "$unpacked/root"
    echo "$newest" >"$unpacked/root/unpacked-from"
    rm -rf "$root"
    mv "$unpacked/root" "$root"
    unpacked_from=$newest
  fi
fi
# A transition can take the package out of a moving suite for a while: a skip too.
[[ -n $unpacked_from ]] || skip "no libtorch-dev could be read from $mirror/dists/$suite"
[[ $unpacked_from == "$newest" ]] ||
  echo "check-libtorch2: $suite's newest libtorch-dev could not be read: checking the one unpacked before"
file=$unpacked_from
# 2.14 moved the version macros to torch/headeronly; the old header includes them from there.
version_header=$root/usr/include/torch/headeronly/version.h
[[ -f $version_header ]] || version_header=$root/usr/include/torch/csrc/api/include/torch/version.h
version=$(awk '/define TORCH_VERSION_(MAJOR|MINOR|PATCH) /{v = v (v == "" ? "" : ".") $3} END{print v}' \
  "$version_header")
IFS=. read -r major minor _ <<<"$version"
[[ -n $major && -n $minor ]] || fail "no version in $version_header"
# As CMakeLists.txt chooses it after find_package(Torch).
standard=17
((major > 2 || (major == 2 && minor >= 14))) && standard=20
echo "check-libtorch2: compiling against libtorch $version's headers ($file), as C++$standard"
# The sources only a CUDA build compiles (perturb/cuda_kernels.h) too, where a CUDA compiler is
# here: the kernels with it, the C++ around them against the headers above and CUDA's. A CPU
# libtorch-dev lacks one header its CUDA build generates, c10/cuda/impl/cuda_cmake_macros.h,
# which only says the library is shared: written beside them.
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
if [[ -x $nvcc ]]; then
  mkdir -p "$root/cuda-build/c10/cuda/impl"
  echo '#define C10_CUDA_BUILD_SHARED_LIBS' > "$root/cuda-build/c10/cuda/impl/cuda_cmake_macros.h"
else
  echo "check-libtorch2: no CUDA compiler here: the sources only a CUDA build compiles are not checked"
  nvcc=""
fi
rm -rf "$root/pch"
python3 - "$build/compile_commands.json" "$root/usr/include" "${BD_JOBS:-$(nproc)}" "$PWD" "$nvcc" "$root/cuda-build" \
  "$standard" "$root/pch" <<'PY'
import glob, json, os, re, shlex, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor
commands, include, jobs, repo, nvcc, generated = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
standard, pch_folder = sys.argv[7], sys.argv[8]
api = "/usr/include/torch/csrc/api/include"  # where Debian 12's libtorch puts its C++ API

def built_for_a_gpu(path):
    inside = os.path.relpath(path, repo)
    return inside.split("/")[0] in ("perturb", "src", "encoders", "cli", "bench") or \
        inside.startswith(("tests/util/", "tests/tools/")) or inside == "tests/perturb/test_gpu.cpp"

def against_2x(command):
    """The compile command with 2.x's headers first, the rest of /usr/include after them, and
    the standard CMake would choose for them."""
    args, out, i, swapped = shlex.split(command), [], 0, False
    while i < len(args):
        if args[i] == "-o":
            i += 2
            continue
        if args[i] == "-isystem" and args[i + 1] == api:
            out += ["-isystem", include + "/torch/csrc/api/include", "-isystem", include]
            swapped = True
            i += 2
            continue
        out.append(args[i])
        i += 1
    if not swapped:
        sys.exit(f"check-libtorch2: {api} is not among the include folders of: {command[:200]}")
    out = [a for a in out if not a.startswith("-std=")]
    return out + [f"-std=c++{standard}", "-fsyntax-only", "-Werror=deprecated-declarations"]

def launches_kernels(path):
    """Whether a CUDA build compiles the source otherwise: it names the build's macro, or
    includes what launches this project's kernels (their launchers are declared only there)."""
    text = open(path).read()
    return "BELLADONNA_CUDA_KERNELS" in text or any(
        f'/{header}"' in text for header in ("own_kernel.h", "pixel_passes.h", "cuda_kernels.h"))

def cuda_includes():
    """The folders nvcc itself puts first, as its dry run says: `nvcc` on the PATH may be a
    wrapper script elsewhere than the toolkit, so the headers' place is not found from its own."""
    run = subprocess.run([nvcc, "--dryrun", "-x", "cu", "-c", os.devnull, "-o", os.devnull],
                         capture_output=True, text=True)
    found = re.search(r'^#\$ INCLUDES="([^"]*)"', run.stderr + run.stdout, re.M)
    folders = [a[2:] for a in shlex.split(found.group(1)) if a.startswith("-I")] if found else []
    if not folders:
        sys.exit(f"check-libtorch2: {nvcc} --dryrun names no include folder:\n" + (run.stderr + run.stdout)[:2000])
    return [arg for folder in folders for arg in ("-isystem", folder)]

def command_of(entry):
    command = against_2x(entry["command"])
    if entry.get("cuda"):
        command += ["-DBELLADONNA_CUDA_KERNELS", "-isystem", generated] + cuda
    return command

def reads_torch_h(path, seen):
    """Whether a source includes <torch/torch.h>, itself or through this repository's headers.
    Only those take the precompiled header below: one that includes a narrower part of
    libtorch must keep finding what it needs there."""
    if path in seen:
        return False
    seen.add(path)
    for name in re.findall(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', open(path).read(), re.M):
        if name == "torch/torch.h":
            return True
        for folder in (os.path.dirname(path), repo, os.path.join(repo, "include"), os.path.join(repo, "tests")):
            inside = os.path.join(folder, name)
            if os.path.isfile(inside) and reads_torch_h(inside, seen):
                return True
    return False

def code_generation(command):
    """What a precompiled header must share with a source that reads it: GCC compares the -f,
    -m, -O and -g options and the standard (the library's -fPIC, the programs' -fpie)."""
    return tuple(a for a in command if a.startswith(("-f", "-m", "-O", "-g", "-std=")) and a != "-fsyntax-only")

def is_macro(option):
    return option.startswith(("-D", "-U"))

def macros(command):
    return {a for a in command if is_macro(a)}

def precompiled_torch(index, group, folder):
    """<torch/torch.h> precompiled once for the sources of one code generation that include
    it: each then takes a third of the time it took to parse the headers, the most of a
    syntax check. GCC refuses a precompiled header that was made with a macro the source does
    not define, so it is made with only the -D options all of them share. Returns the header,
    or None (and why) where it could not be made."""
    header = os.path.join(folder, f"torch-{index}.h")
    with open(header, "w") as f:
        f.write("#include <torch/torch.h>\n")
    shared = set.intersection(*(macros(command_of(e)) for e in group))
    first = group[0]
    command = [a for a in command_of(first)
               if a not in ("-c", first["file"], "-fsyntax-only") and (not is_macro(a) or a in shared)]
    run = subprocess.run(command + ["-x", "c++-header", header, "-o", header + ".gch"], cwd=first["directory"],
                         capture_output=True, text=True)
    return (header, "") if run.returncode == 0 else (None, (run.stderr.strip().splitlines() or ["?"])[-1])

def compile_only(entry):
    command = command_of(entry)
    header = headers.get(code_generation(command)) if entry["torch"] else None
    extra = ["-include", header, "-Winvalid-pch", "-Wno-error=invalid-pch"] if header else []
    run = subprocess.run(command + extra, cwd=entry["directory"], capture_output=True, text=True)
    return entry["file"] + (" (as a CUDA build compiles it)" if entry.get("cuda") else ""), run.returncode, run.stderr

def kernels_compile(path):
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run([nvcc, "-std=c++17", "-O3", "-arch=sm_90", "--expt-relaxed-constexpr", "-I", repo, "-c", path, "-o",
                              os.path.join(out, "kernel.o")], capture_output=True, text=True)
    return path + " (nvcc)", run.returncode, run.stderr + run.stdout

entries = [e for e in json.load(open(commands)) if built_for_a_gpu(e["file"])]
if nvcc:
    cuda = cuda_includes()
    entries += [dict(e, cuda=True) for e in entries if launches_kernels(e["file"])]
if not entries:
    sys.exit(f"check-libtorch2: {commands} lists none of this checkout's sources ({repo})")
# The headers really are 2.x's: a compile that only they pass.
probe = subprocess.run([a for a in against_2x(entries[0]["command"]) if a != entries[0]["file"]] + ["-x", "c++", "-"],
                       cwd=entries[0]["directory"],
                       input="#include <torch/version.h>\nstatic_assert(TORCH_VERSION_MAJOR >= 2);\n",
                       capture_output=True, text=True)
if probe.returncode != 0:
    sys.exit("check-libtorch2: the compiles do not read libtorch 2.x's headers:\n" + probe.stderr[:2000])
kernels = sorted(glob.glob(os.path.join(repo, "perturb", "**", "*.cu"), recursive=True)) if nvcc else []
failed = 0
groups = {}
for entry in entries:
    entry["torch"] = reads_torch_h(entry["file"], set())
    if entry["torch"]:
        groups.setdefault(code_generation(command_of(entry)), []).append(entry)
# The precompiled headers (some 700 MB each) in the folder the shell part removes at its exit.
os.makedirs(pch_folder, exist_ok=True)
with ThreadPoolExecutor(jobs) as pool:
    made = list(pool.map(lambda item: precompiled_torch(item[0], item[1][1], pch_folder), enumerate(groups.items())))
    headers = {key: header for key, (header, _) in zip(groups, made)}
    results = list(pool.map(compile_only, entries)) + list(pool.map(kernels_compile, kernels))
unfit = [errors for _, _, errors in results if "Winvalid-pch" in errors]
print(f"check-libtorch2: {sum(e['torch'] for e in entries)} of {len(entries)} compiles include torch/torch.h; "
      f"{sum(h is not None for h in headers.values())} of {len(groups)} precompiled headers made"
      + "".join(f" ({why})" for _, why in made if why)
      + (f"; unfit for {len(unfit)} compiles, which parsed the headers instead: "
         + next(line for line in unfit[0].splitlines() if "Winvalid-pch" in line) if unfit else ""))
for path, code, errors in results:
    if code != 0:
        failed += 1
        print(f"FAILED {path}")
        print("\n".join(errors.splitlines()[:30]))
print(f"check-libtorch2: {len(results) - failed} of {len(results)} sources compile"
      + (f", {len(kernels)} of them CUDA kernels with {nvcc}" if kernels else ""))
sys.exit(1 if failed else 0)
PY
