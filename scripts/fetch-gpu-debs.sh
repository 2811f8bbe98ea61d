#!/usr/bin/env bash
# Run HERE (with Debian's apt): downloads the Debian -dev packages the library, CLI, tests
# and benchmarks need, and unpacks them into third_party/debs/root (ignored by git), so
# scripts/gpu-check.sh can build on a GPU machine that has no network. Nothing goes into /.
set -euo pipefail
cd "$(dirname "$0")/.."
out=third_party/debs
mkdir -p "$out/pkgs" "$out/root"
# libcurl's and libjxl's own libraries are needed at link time (butteraugli comes from libjxl);
# this list built main on a lent H200 (Ubuntu 24.04) with nothing else installed.
pkgs=(libpng-dev libpng16-16 libjpeg62-turbo-dev libjpeg62-turbo libtbb-dev libtbb12 libtbbmalloc2
      libtbbbind-2-5 nlohmann-json3-dev libcurl4-openssl-dev libcurl4 libcxxopts-dev libgtest-dev
      libgmock-dev libbenchmark-dev libbenchmark1debian zlib1g-dev libjxl-dev libjxl0.7 libhwy1
      libhwy-dev libbrotli1 libbrotli-dev liblcms2-2 liblcms2-dev pkgconf libpkgconf3 pkgconf-bin
      pkg-config libnghttp2-14 librtmp1 libssh2-1 libpsl5 libldap-2.5-0 libidn2-0 libzstd1
      libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libsasl2-2 libunistring2 libgnutls30
      libhogweed6 libnettle8 libgmp10 libp11-kit0 libtasn1-6 libkeyutils1 libcom-err2
      libsasl2-modules-db libdb5.3 libssl3 libffi8 ninja-build)
(cd "$out/pkgs" && apt-get download "${pkgs[@]}" >/dev/null)
for deb in "$out"/pkgs/*.deb; do dpkg-deb -x "$deb" "$out/root"; done
# What a build does not need, so the tree carried to the GPU machine stays small (~34 MB).
rm -rf "$out"/root/usr/share/{doc,man,locale}
find "$out/root/usr/bin" -type f ! -name 'pkgconf' ! -name 'ninja' -delete
find "$out/root" -name '*.a' ! -name 'libgtest*' ! -name 'libgmock*' ! -name 'libbenchmark*' -delete
echo "fetch-gpu-debs: unpacked ${#pkgs[@]} packages into $out/root ($(du -sh "$out/root" | cut -f1))"
