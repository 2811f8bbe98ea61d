#!/usr/bin/env bash
# Builds the libFuzzer targets for the PNG and JPEG decoders with clang (address + undefined
# sanitizers) and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 60; needs clang and libclang-rt-14-dev)
#
# The targets compile only the codec sources (no libtorch), so this takes seconds to build.
# Outputs go to build-fuzz/: binaries, the growing corpus per target (seeded from samples/),
# and crash-*/leak-*/timeout-* reproducers. Re-run one reproducer with:
#   build-fuzz/fuzz_png build-fuzz/crash-...
# Exit status is non-zero when a target finds a crash, leak or timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=build-fuzz
cxx="${CXX_FUZZ:-$(command -v clang++ || command -v clang++-14 || true)}"
if [[ -z "$cxx" ]]; then
  echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 2
fi
mkdir -p "$out"
codec=(src/io/image.cpp src/io/image_io.cpp src/io/png_codec.cpp src/io/jpeg_codec.cpp src/io/exif.cpp src/io/atomic_file.cpp)
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I.)
status=0
for target in png jpeg; do
  echo "== building fuzz_$target"
  if ! "$cxx" "${flags[@]}" "tests/io/fuzz/fuzz_$target.cpp" "${codec[@]}" -lpng -ljpeg -lz \
       -o "$out/fuzz_$target"; then
    echo "fuzz.sh: building fuzz_$target failed" >&2
    exit 2
  fi
  mkdir -p "$out/corpus_$target"
  echo "== running fuzz_$target for ${seconds}s"
  if ! (cd "$out" && "./fuzz_$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
          -timeout=10 -print_final_stats=1 "corpus_$target" ../samples); then
    echo "fuzz.sh: fuzz_$target found a problem; reproducer in $out/" >&2
    status=1
  fi
done
exit $status
