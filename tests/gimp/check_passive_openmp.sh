#!/usr/bin/env bash
# The GIMP plug-in lets idle OpenMP workers sleep, as the CLI and desktop app do: started
# without OMP_WAIT_POLICY it re-executes itself once with PASSIVE (the dynamic loader's
# LD_DEBUG log shows the program started twice, the second time with the variable); started
# with the variable set, once. No GIMP needed: gimp_main refuses to run outside GIMP.
# Usage: check_passive_openmp.sh PLUGIN
set -uo pipefail
plugin=$1
log=$(mktemp "${TMPDIR:-/tmp}/bd-omp-XXXXXX")
trap 'rm -f "$log"' EXIT

starts() {  # env assignments... -> number of times the plug-in was started
  env "$@" LD_DEBUG=files LD_DEBUG_OUTPUT="$log" "$plugin" >/dev/null 2>&1
  cat "$log".* 2>/dev/null | grep -c 'transferring control: .*plug-in-belladonna'
  rm -f "$log".*
}

unset OMP_WAIT_POLICY
n=$(starts)
[[ $n == 2 ]] || { echo "passive openmp: started without OMP_WAIT_POLICY, the plug-in ran $n time(s), expected 2 (one re-exec)" >&2; exit 1; }
n=$(starts OMP_WAIT_POLICY=ACTIVE)
[[ $n == 1 ]] || { echo "passive openmp: with OMP_WAIT_POLICY=ACTIVE the plug-in ran $n time(s), expected 1" >&2; exit 1; }
echo "passive openmp: ok"
