#!/bin/sh
# Whole processes: dcmprep prep commands against the nibabel + numpy/scipy
# script doing the same (load, op, save), and against `cat in > out`.
# usage: bench/bench_e2e.sh BUILD_DIR   (BENCH_RUNS, default 5; BENCH_SLOW_RUNS,
# default 1: runs of the elastic script, about a minute each)
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=${BENCH_TMP:-${TMPDIR:-/tmp}/dcmprep-bench-e2e}
/usr/bin/python3 "$here/e2e_bench.py" "$build/tools/dcmprep" "$tmp" "${BENCH_RUNS:-5}" "${BENCH_SLOW_RUNS:-1}"
