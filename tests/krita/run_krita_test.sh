#!/usr/bin/env bash
# A real Krita without a display (kritarunner) protects a painting with the Krita plug-in's
# code through Krita's Document API and exports it; bd-plugin-check then checks the PNG is
# protected within the default intensity's bound.
# Usage: run_krita_test.sh KRITARUNNER LIBBELLADONNA BD_MAKE_TINY_MODEL BD_PLUGIN_CHECK PLUGIN_DIR TARGET
set -euo pipefail
runner=$1 library=$2 maker=$3 checker=$4 plugin_dir=$5 target=$6
epsilon=8   # the default intensity's L-inf bound, in 1/255

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bd-krita-test-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/model" "$tmp/home"
model=$("$maker" "$tmp/model" | tail -n 1)
"$checker" make "$tmp/in.png"

# A private HOME and XDG folders: nothing of the user's Krita settings is read or written.
set +e
HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/config XDG_DATA_HOME=$tmp/home/data \
  XDG_CACHE_HOME=$tmp/home/cache XDG_RUNTIME_DIR=$tmp/home QT_QPA_PLATFORM=offscreen \
  BELLADONNA_LIBRARY=$library PYTHONPATH="$plugin_dir:$(dirname "$0")" \
  timeout 240 "$runner" -s krita_protect_check -f main \
    "$tmp/in.png" "$tmp/out.png" "$model" "$target" "$tmp/result.txt" >"$tmp/krita.log" 2>&1
rc=$?
set -e
result=$(cat "$tmp/result.txt" 2>/dev/null || true)
if [[ $rc -ne 0 || $(head -n 1 <<<"$result") != ok ]]; then
  grep -v 'krita.lib.resources\|QStandardPaths' "$tmp/krita.log" | tail -20 >&2
  echo "krita test: kritarunner exited with $rc; the script said:" >&2
  echo "${result:-(nothing)}" >&2
  exit 1
fi
echo "$result"
"$checker" check "$tmp/in.png" "$tmp/out.png" "$model" "$epsilon" "$target"
echo "krita test: passed"
