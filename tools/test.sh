#!/bin/sh
# Installs dependencies, builds with warnings as errors and runs the whole test
# suite; then builds again with AddressSanitizer and UBSan in BUILD_DIR-san and
# runs the whole suite once more under them: any sanitizer report, leaks
# included, fails the test it happens in (tests/CMakeLists.txt makes reports
# exit 86, never a status a test expects).  Exits non-zero when either pass
# fails; both always run.
# usage: tools/test.sh [BUILD_DIR]   (default: build-test)
#        DCMPREP_TEST_SANITIZE=0 skips the sanitizer pass (and says so)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-test}
jobs=$(nproc)
sh tools/deps.sh --test
status=0

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCMPREP_WERROR=ON >/dev/null
cmake --build "$build" -j"$jobs"
(cd "$build" && ctest --output-on-failure -j"$jobs") || status=1

if [ "${DCMPREP_TEST_SANITIZE:-1}" = 0 ]; then
  echo "test.sh: SKIPPED the AddressSanitizer + UBSan pass (DCMPREP_TEST_SANITIZE=0)"
  exit $status
fi
san="$build-san"
start=$(date +%s)
cmake -S . -B "$san" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCMPREP_WERROR=ON \
  -DDCMPREP_SANITIZE=address,undefined >/dev/null
cmake --build "$san" -j"$jobs"
mkdir -p "$san/sanitizer-reports" && rm -f "$san"/sanitizer-reports/*
(cd "$san" && ctest --output-on-failure -j"$jobs") || status=1
# AddressSanitizer/LeakSanitizer reports land here (tests/CMakeLists.txt): any
# one fails the job, even from a program whose exit status a test ignored
for r in "$san"/sanitizer-reports/*; do
  [ -e "$r" ] || continue
  echo "test.sh: sanitizer report $(basename "$r"):"
  head -c 20000 "$r"
  status=1
done
echo "test.sh: AddressSanitizer + UBSan pass (build and tests) took $(($(date +%s) - start)) s"
exit $status
