#!/bin/sh
# DataLoader throughput (samples/s) of dcmprep.Augment against the same
# augmentation written TorchIO-style with scipy, same run (bench/python_bench.py).
# usage: bench/bench_python.sh BUILD_DIR   (BENCH_RUNS, default 3)
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
cmake --build "$build" --target dcmprep_python >/dev/null
/usr/bin/python3 "$here/python_bench.py" "$build" "${BENCH_RUNS:-3}"
