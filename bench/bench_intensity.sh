#!/bin/sh
# Intensity steps (percentile clip, z-score, window) against numpy, same run.
# usage: bench/bench_intensity.sh BUILD_DIR   (BENCH_RUNS, default 5)
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=${BENCH_TMP:-${TMPDIR:-/tmp}/dcmprep-bench-intensity}
/usr/bin/python3 "$here/intensity_bench.py" "$build/bench/intensity_bench" "$tmp" "${BENCH_RUNS:-5}"
