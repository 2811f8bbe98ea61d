#!/usr/bin/env bash
# Runs tests of the existing build/ from a copy of the repository in an empty temporary
# folder, as a user's clone would run them: a test that reads a file outside the repository
# (a folder beside the clone, say) fails here. No rebuild: the source files the build
# tracks and build/ (minus its object files) are copied, the copy's CTest files are
# rewritten to the copy, and the test helpers and the library are pointed at it
# (BD_SOURCE_DIR, BD_BIN_DIR, LD_LIBRARY_PATH: the copied library finds its data beside itself).
# Usage: scripts/test-from-copy.sh [ctest arguments]   (default: -L unit)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
[[ -f build/CTestTestfile.cmake ]] || { echo "test-from-copy: no build/ with tests (run scripts/test.sh first)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bd-copy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
copy=$tmp/belladonna
mkdir "$copy"

# The repository as git sees it (tracked and new files, not ignored ones), then the build.
git ls-files -z --cached --others --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$copy"
tar --exclude=CMakeFiles --exclude='*.o' --exclude=.ninja_log --exclude=.ninja_deps -cf - build \
  | tar -xf - -C "$copy"
grep -rlZ --include='CTestTestfile.cmake' --include='*_tests.cmake' --include='*_include.cmake' \
  -F "$src" "$copy/build" | xargs -0 -r sed -i "s|$src|$copy|g"
if grep -rqF --include='CTestTestfile.cmake' --include='*_tests.cmake' "$src" "$copy/build"; then
  echo "test-from-copy: CTest files still name $src" >&2; exit 1
fi

[[ $# -gt 0 ]] || set -- -L unit
cd "$tmp"
export BD_SOURCE_DIR=$copy BD_BIN_DIR=$copy/build/bin LD_LIBRARY_PATH=$copy/build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} BELLADONNA_CACHE_DIR=$tmp/cache
echo "test-from-copy: running the tests of $copy/build"
ctest --test-dir "$copy/build" --output-on-failure -j "${BELLADONNA_TEST_JOBS:-2}" "$@"
