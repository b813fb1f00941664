#!/bin/sh
# Fused spatial augmentation (rotate + zoom + shift, one linear interpolation)
# against scipy.ndimage.affine_transform(order=1) with the same matrix, same run.
# usage: bench/bench_augment.sh BUILD_DIR   (BENCH_RUNS, default 3)
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=${BENCH_TMP:-${TMPDIR:-/tmp}/dcmprep-bench-augment}
/usr/bin/python3 "$here/augment_bench.py" "$build/bench/augment_bench" "$tmp" "${BENCH_RUNS:-3}"
