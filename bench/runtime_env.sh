# Sourced by the bench scripts, after BUILD is set: the OpenMP waits and the OpenBLAS kernels
# the CLI picks for itself (src/runtime/runtime_env.h), exported for every program a bench runs, so
# an older build and a Python baseline run on the same settings, and so the CLI does not
# re-execute itself inside a timing.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-20000}
if [[ -z ${OPENBLAS_CORETYPE:-} && -x $BUILD/bin/belladonna ]]; then
    # The core OpenBLAS reports at the CLI's last start, after any restart for it.
    bench_core=$(OPENBLAS_VERBOSE=2 "$BUILD/bin/belladonna" --help 2>&1 >/dev/null | sed -n 's/^Core: *//p' | tail -1 || true)
    [[ -n $bench_core ]] && export OPENBLAS_CORETYPE=$bench_core
    unset bench_core
fi
