#!/usr/bin/env bash
# Installs what belladonna needs on Debian 12, then configures and builds the release
# preset into build/. Idempotent: a second run installs nothing and rebuilds only changes.
# Set CMAKE_PREFIX_PATH to another libtorch (a CUDA build) to build against it instead of
# Debian's; set BELLADONNA_CMAKE_ARGS for extra configure options.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "setup: $*" >&2; exit 1; }

packages=(
  build-essential cmake ninja-build pkg-config git
  libtorch-dev libopenblas0-openmp   # OpenBLAS, not the reference BLAS (16x slower)
  libpng-dev libjpeg-dev zlib1g-dev
  libjxl-dev libjxl-devtools     # butteraugli: the visibility figure (API and butteraugli_main)
  libtbb-dev libcxxopts-dev nlohmann-json3-dev libcurl4-openssl-dev libssl-dev
  qt6-base-dev libgl-dev
  libgimp2.0-dev gimp
  krita python3-pyqt5           # the Krita plug-in's headless test (kritarunner)
  help2man                      # the CLI's man pages, generated from --help
  debootstrap lintian           # scripts/test-package.sh: the .deb on a fresh Debian 12
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev      # libFuzzer targets
  python3 xvfb xauth            # local download server in tests; GUI screenshots
  python3-matplotlib            # bench/poison/plot.py: the poisoning benchmark's picture
  imagemagick                   # import/convert for scripts/screenshot-gui.sh
  curl xz-utils                 # scripts/check-libtorch2.sh: libtorch 2.x's headers from Debian testing
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || fail "not root and no sudo: install ${missing[*]} by hand"
    sudo="sudo"
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/tmp/belladonna-apt.log 2>&1 || { cat /tmp/belladonna-apt.log >&2; fail "apt-get update failed (log above)"; }
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >>/tmp/belladonna-apt.log 2>&1 \
    || { tail -30 /tmp/belladonna-apt.log >&2; fail "apt-get install failed for: ${missing[*]} (log above)"; }
fi

# libtorch must pick OpenBLAS's OpenMP build over the reference BLAS.
if [[ -z "${CMAKE_PREFIX_PATH:-}" ]] && command -v update-alternatives >/dev/null; then
  for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
    target=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-openmp | head -1 || true)
    if [[ -n "$target" ]]; then
      current=$(readlink -f "/etc/alternatives/$alt" 2>/dev/null || true)
      if [[ "$current" != "$(readlink -f "$target")" ]]; then
        ${sudo:-} update-alternatives --set "$alt" "$target" >/dev/null || fail "could not select $target for $alt"
      fi
    fi
  done
fi

args=(--preset release -G Ninja)
[[ -n "${CMAKE_PREFIX_PATH:-}" ]] && args+=("-DCMAKE_PREFIX_PATH=$CMAKE_PREFIX_PATH")
# shellcheck disable=SC2206
[[ -n "${BELLADONNA_CMAKE_ARGS:-}" ]] && args+=($BELLADONNA_CMAKE_ARGS)
if [[ ! -f build/build.ninja || -n "${CMAKE_PREFIX_PATH:-}${BELLADONNA_CMAKE_ARGS:-}" ]]; then
  cmake "${args[@]}" >/tmp/belladonna-configure.log 2>&1 \
    || { tail -40 /tmp/belladonna-configure.log >&2; fail "cmake configure failed (log above)"; }
fi
jobs=${BELLADONNA_BUILD_JOBS:-$(nproc)}
cmake --build build -j "$jobs" >/tmp/belladonna-build.log 2>&1 \
  || { grep -E "error|Error" /tmp/belladonna-build.log | head -40 >&2; fail "build failed (full log: /tmp/belladonna-build.log)"; }
grep -q "no work to do" /tmp/belladonna-build.log || echo "setup: built build/bin/"
