#!/bin/sh
# Resampling (prep --spacing) against scipy.ndimage.zoom, same run.
# usage: bench/bench_resample.sh BUILD_DIR   (BENCH_RUNS, default 3)
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=${BENCH_TMP:-${TMPDIR:-/tmp}/dcmprep-bench-resample}
/usr/bin/python3 "$here/resample_bench.py" "$build/bench/warp_bench" "$tmp" "${BENCH_RUNS:-3}" "$build/tools/dcmprep"
