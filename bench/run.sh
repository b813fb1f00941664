#!/bin/sh
# Runs every benchmark under bench/ and prints, per case, dcmprep's median
# time, the reference tool's median measured in the same run, and the ratio.
# usage: bench/run.sh [BUILD_DIR] [CASE...]     (default build dir: build)
# Each case is bench/bench_<name>.sh; run a subset by naming them (e.g. gz).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
[ $# -gt 0 ] && shift
build=$(cd "$build" && pwd)
cases=${*:-$(ls "$here"/bench_*.sh | sed 's|.*/bench_||; s|\.sh$||')}
for c in $cases; do
  echo "=== $c"
  sh "$here/bench_$c.sh" "$build"
done
