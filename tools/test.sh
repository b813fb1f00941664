#!/bin/sh
# Installs dependencies, builds with warnings as errors and runs the whole test
# suite.  usage: tools/test.sh [BUILD_DIR]   (default: build-test)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-test}
sh tools/deps.sh --test
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCMPREP_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j"$(nproc)"
