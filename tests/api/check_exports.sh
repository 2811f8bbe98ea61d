#!/usr/bin/env bash
# The library exports the C API (bd_*) and the bd:: C++ API, nothing else (libtorch, TBB and
# std template instantiations of their own stay hidden; see cmake/belladonna.map).
# Usage: check_exports.sh LIBRARY HEADER
set -euo pipefail
lib=$1 header=$2
syms=$(nm -D --defined-only "$lib" | awk '{print $3}')
status=0
# Every function the header declares is exported.
for f in $(grep -oE '\bbd_[a-z_]+ *\(' "$header" | tr -d ' (' | sort -u); do
  grep -qx "$f" <<<"$syms" || { echo "missing export: $f" >&2; status=1; }
done
# Nothing else: each other exported symbol is C++ and names bd::.
stray=$(grep -v '^bd_' <<<"$syms" | c++filt | grep -v 'bd::' || true)
if [[ -n "$stray" ]]; then
  echo "exported symbols outside the API ($(wc -l <<<"$stray")):" >&2
  head -20 <<<"$stray" >&2
  status=1
fi
echo "$(wc -l <<<"$syms") exported symbols, $(grep -c '^bd_' <<<"$syms") of them C API"
exit $status
