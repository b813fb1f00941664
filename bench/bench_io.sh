#!/bin/sh
# The I/O path in-process (bench/io_bench.c): reading a 512x512x140 int16 CT
# (scaled as dcm2niix stores CT, and unscaled: mapped), `info`'s statistics
# (target: read + statistics <= 40 ms), writing .nii and .nii.gz (int16, and
# float32), against nibabel reading the same file in the same run.
# usage: bench/bench_io.sh BUILD_DIR   (BENCH_RUNS, default 5)
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=${BENCH_TMP:-${TMPDIR:-/tmp}/dcmprep-bench-io}
/usr/bin/python3 "$here/io_bench.py" "$build/bench/io_bench" "$tmp" "${BENCH_RUNS:-5}"
