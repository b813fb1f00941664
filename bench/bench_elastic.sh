#!/bin/sh
# Elastic deformation (sigma 35, alpha 4, linear, 2 threads) against the
# scipy code it replaces (shared/tools/seed_ops.py elastic(), run once).
# usage: bench/bench_elastic.sh BUILD_DIR   (BENCH_RUNS, default 3; DP_SHARED)
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=${BENCH_TMP:-${TMPDIR:-/tmp}/dcmprep-bench-elastic}
shared=${DP_SHARED:-$here/../../shared}
/usr/bin/python3 "$here/elastic_bench.py" "$build/bench/elastic_bench" "$tmp" "${BENCH_RUNS:-3}" "$shared"
