#!/usr/bin/env bash
# A program of ours starts with the settings libgomp and OpenBLAS read when they load
# (src/runtime/runtime_env.h): started without OMP_WAIT_POLICY it re-executes itself once with
# PASSIVE and GOMP_SPINCOUNT=20000, keeping a GOMP_SPINCOUNT the user set; started with the
# policy set, it runs once as it was. Where OpenBLAS falls back to its generic kernels
# ("Prescott") on a processor with AVX2 and FMA, it re-executes with OPENBLAS_CORETYPE set to
# the widest kernels the processor runs, unless the user set one. libgomp's OMP_DISPLAY_ENV
# and OpenBLAS's OPENBLAS_VERBOSE=2 show each start's settings on stderr, once per start.
# The program must fail fast with the given arguments (no GIMP, a bad flag).
# Usage: check_runtime_env.sh PROGRAM [ARGS...]
set -uo pipefail

# An OPENBLAS_CORETYPE the user set is kept, so the OpenMP cases below do not restart for it;
# Prescott runs on any x86-64.
starts() {  # env assignments... -> "<starts> <last policy> <last spin count>"
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT OPENBLAS_CORETYPE=Prescott "$@" OMP_DISPLAY_ENV=VERBOSE \
    "${program[@]}" 2>&1 >/dev/null |
    awk -F"'" '/OPENMP DISPLAY ENVIRONMENT BEGIN/ { n++ }
               /^ *OMP_WAIT_POLICY =/ { policy = $2 }
               /^ *GOMP_SPINCOUNT =/ { spins = $2 }
               END { print n + 0, policy, spins }'
}

blas_cores() {  # env assignments... -> the core OpenBLAS reported at each start, in order
  env -u OPENBLAS_CORETYPE OMP_WAIT_POLICY=PASSIVE OPENBLAS_VERBOSE=2 "$@" "${program[@]}" 2>&1 >/dev/null |
    sed -n 's/^Core: *//p' | tr '\n' ' ' | sed 's/ $//'
}

expect() {  # what, expected, got
  [[ $2 == "$3" ]] || { echo "runtime env: $1: expected '$2', got '$3'" >&2; exit 1; }
}

program=("$@")
expect "started without either variable (starts, policy, spins)" "2 PASSIVE 20000" "$(starts)"
expect "started with GOMP_SPINCOUNT=1234" "2 PASSIVE 1234" "$(starts GOMP_SPINCOUNT=1234)"
expect "started with OMP_WAIT_POLICY=ACTIVE" "1 ACTIVE" "$(starts OMP_WAIT_POLICY=ACTIVE | cut -d' ' -f1-2)"

cores=$(blas_cores)
if [[ -n $cores ]]; then  # an OpenBLAS is loaded
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  has() { for f in "$@"; do [[ $flags == *" $f "* ]] || return 1; done; }
  expected=${cores%% *}
  if [[ $expected == Prescott ]]; then
    if has avx512f avx512bw avx512dq avx512vl; then expected="Prescott SkylakeX"
    elif has avx2 fma; then expected="Prescott Haswell"; fi
  fi
  expect "OpenBLAS cores at each start" "$expected" "$cores"
  expect "started with OPENBLAS_CORETYPE=Prescott" "Prescott" "$(blas_cores OPENBLAS_CORETYPE=Prescott)"
fi
echo "runtime env: ok (OpenBLAS: ${cores:-not loaded})"
