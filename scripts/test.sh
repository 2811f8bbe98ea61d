#!/usr/bin/env bash
# Builds if needed, then runs the whole test suite. Extra arguments go to ctest
# (e.g. scripts/test.sh -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f build/build.ninja || -f build/Makefile ]] || scripts/setup.sh
cmake --build build -j "${BELLADONNA_BUILD_JOBS:-$(nproc)}" >/tmp/belladonna-build.log 2>&1 \
  || { grep -E "error" /tmp/belladonna-build.log | head -40 >&2; echo "test: build failed (log: /tmp/belladonna-build.log)" >&2; exit 1; }
cd build
# Two test processes share two cores: spinning OpenMP workers would starve each other
# (measured 15x slower model tests), so idle workers sleep.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
# What the tests cache (concept tables of their tiny models) stays in the build tree, not in
# the user's ~/.cache.
export BELLADONNA_CACHE_DIR=${BELLADONNA_CACHE_DIR:-$PWD/test-cache}
ctest --output-on-failure -j "${BELLADONNA_TEST_JOBS:-2}" "$@"
