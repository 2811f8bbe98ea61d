#!/usr/bin/env bash
# Builds the Debian package from the release build (build/, as scripts/setup.sh makes it)
# and checks it with lintian. Prints the .deb's path on its last line.
# Usage: scripts/package.sh [OUTDIR]   (default build/package)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/package}

fail() { echo "package: $*" >&2; exit 1; }
[[ -f build/CPackConfig.cmake ]] || fail "no configured build/ (run scripts/setup.sh first)"
command -v help2man >/dev/null || fail "help2man is missing (the man pages are generated with it): apt-get install help2man"
cmake --build build -j2 >/tmp/belladonna-package-build.log 2>&1 \
  || { tail -30 /tmp/belladonna-package-build.log >&2; fail "the build failed (log above)"; }
ls build/man/man1/belladonna.1.gz >/dev/null 2>&1 || fail "build/man/man1 has no man pages; reconfigure build/ now that help2man is installed"

rm -f "$out"/belladonna_*.deb
(cd build && cpack -G DEB -B "$(realpath -m "../$out")") >/tmp/belladonna-cpack.log 2>&1 \
  || { tail -30 /tmp/belladonna-cpack.log >&2; fail "cpack failed (log above)"; }
deb=$(ls "$out"/belladonna_*.deb)
size=$(stat -c %s "$deb")
echo "package: $deb, $((size / 1024)) KiB"
if command -v lintian >/dev/null; then
  # Errors fail; warnings are printed (docs/INSTALL.md says which remain and why).
  if ! lintian --fail-on error --tag-display-limit 0 "$deb" >/tmp/belladonna-lintian.log 2>&1; then
    grep -v 'running with root privileges' /tmp/belladonna-lintian.log >&2
    fail "lintian reports errors on $deb (above)"
  fi
  grep -v 'running with root privileges' /tmp/belladonna-lintian.log || true
else
  echo "package: lintian not installed, not checked"
fi
echo "$deb"
