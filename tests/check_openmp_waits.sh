#!/usr/bin/env bash
# A program of ours lets idle OpenMP workers sleep after a brief spin (src/threads.h):
# started without OMP_WAIT_POLICY it re-executes itself once with PASSIVE and
# GOMP_SPINCOUNT=20000, keeping a GOMP_SPINCOUNT the user set; started with the policy set,
# it runs once as it was. libgomp's OMP_DISPLAY_ENV shows each start's settings on stderr,
# once per start. The program must fail fast with the given arguments (no GIMP, a bad flag).
# Usage: check_openmp_waits.sh PROGRAM [ARGS...]
set -uo pipefail

starts() {  # env assignments... -> "<starts> <last policy> <last spin count>"
  env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$@" OMP_DISPLAY_ENV=VERBOSE "${program[@]}" 2>&1 >/dev/null |
    awk -F"'" '/OPENMP DISPLAY ENVIRONMENT BEGIN/ { n++ }
               /^ *OMP_WAIT_POLICY =/ { policy = $2 }
               /^ *GOMP_SPINCOUNT =/ { spins = $2 }
               END { print n + 0, policy, spins }'
}

expect() {  # what, expected, got
  [[ $2 == "$3" ]] || { echo "openmp waits: $1: expected '$2' (starts, policy, spins), got '$3'" >&2; exit 1; }
}

program=("$@")
expect "started without either variable" "2 PASSIVE 20000" "$(starts)"
expect "started with GOMP_SPINCOUNT=1234" "2 PASSIVE 1234" "$(starts GOMP_SPINCOUNT=1234)"
expect "started with OMP_WAIT_POLICY=ACTIVE" "1 ACTIVE" "$(starts OMP_WAIT_POLICY=ACTIVE | cut -d' ' -f1-2)"
echo "openmp waits: ok"
