#!/usr/bin/env bash
# Run HERE (with Debian's apt): downloads the Debian -dev packages the library, CLI, tests
# and benchmarks need, and unpacks them into third_party/debs/root (ignored by git), so
# scripts/gpu-check.sh can build on a GPU machine that has no network. Nothing goes into /.
set -euo pipefail
cd "$(dirname "$0")/.."
out=third_party/debs
mkdir -p "$out/pkgs" "$out/root"
pkgs=(libpng-dev libpng16-16 libjpeg62-turbo-dev libjpeg62-turbo libtbb-dev libtbb12 libtbbmalloc2
      nlohmann-json3-dev libcurl4-openssl-dev libcurl4 libcxxopts-dev libgtest-dev libbenchmark-dev
      libbenchmark1debian zlib1g-dev ninja-build)
(cd "$out/pkgs" && apt-get download "${pkgs[@]}" >/dev/null)
for deb in "$out"/pkgs/*.deb; do dpkg-deb -x "$deb" "$out/root"; done
echo "fetch-gpu-debs: unpacked ${#pkgs[@]} packages into $out/root ($(du -sh "$out/root" | cut -f1))"
