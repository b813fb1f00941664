#!/bin/sh
# Builds the libFuzzer harnesses with clang, AddressSanitizer and UBSan, seeds
# their corpora from data the project generates (synthetic DICOM series in
# every transfer syntax, NIfTI files written by dcmprep), and runs each for a
# set time.  Every input that crashes, leaks, hangs or runs out of memory is
# copied into tests/fuzz/regress/<harness>/, where the replay tests of every
# build (fuzz_regress_*) run it from then on; the script then exits 1.
# usage: tests/fuzz/run.sh [SECONDS_EACH] [BUILD_DIR] [HARNESSES]
#        (default 600 s, build-fuzz, "nifti dicom labels")
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-600}
build=${2:-build-fuzz}
harnesses=${3:-nifti dicom labels}
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCMPREP_FUZZ=ON \
  -DDCMPREP_SANITIZE=address,undefined,fuzzer-no-link >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_nifti fuzz_dicom fuzz_labels dcmprep_synth dcmprep_cli
corpus=$build/fuzz-corpus
mkdir -p "$corpus/dicom" "$corpus/nifti" "$corpus/labels"
synth=$build/tools/synth/dcmprep-synth
for ts in implicit explicit big deflate rle jpeg-lossless jpeg-ls; do
  "$synth" -o "$corpus/tmp-$ts" --ts "$ts" --rows 16 --cols 12 --slices 2 >/dev/null
  cp "$corpus/tmp-$ts/IM0001.dcm" "$corpus/dicom/seed-$ts.dcm"
done
"$synth" -o "$corpus/tmp-enh" --enhanced --rows 16 --cols 12 --slices 3 >/dev/null
cp "$corpus"/tmp-enh/*.dcm "$corpus/dicom/seed-enhanced.dcm"
"$synth" -o "$corpus/tmp-lab" --rows 24 --cols 20 --slices 6 --contour-points 12 \
  --rtstruct "$corpus/labels/seed-rtstruct.dcm" --seg "$corpus/labels/seed-seg.dcm" >/dev/null
"$synth" -o "$corpus/tmp-lab" --rows 24 --cols 20 --slices 6 --seg-fractional --seg-factor 2 \
  --seg "$corpus/labels/seed-seg-fractional.dcm" >/dev/null
"$build/tools/dcmprep" convert "$corpus/tmp-explicit" -o "$corpus/tmp-nii" --no-gz -q
"$build/tools/dcmprep" convert "$corpus/tmp-explicit" -o "$corpus/tmp-gz" -q
cp "$corpus"/tmp-nii/*.nii "$corpus/nifti/seed.nii"
cp "$corpus"/tmp-gz/*.nii.gz "$corpus/nifti/seed.nii.gz"
rm -rf "$corpus"/tmp-*
# and from the regression inputs (earlier crashes and hand-made damaged files)
cp tests/fuzz/regress/nifti/* "$corpus/nifti/"
cp tests/fuzz/regress/dicom/* "$corpus/dicom/"
cp tests/fuzz/regress/labels/* "$corpus/labels/"
found=0
for h in $harnesses; do
  art="$(cd "$build" && pwd)/fuzz-artifacts/$h"
  mkdir -p "$art"
  echo "== fuzz_$h for $secs s"
  (cd "$corpus/$h" && ASAN_OPTIONS=detect_leaks=1 "../../tests/fuzz/fuzz_$h" -max_total_time="$secs" \
    -rss_limit_mb=4096 -max_len=65536 -timeout=20 -artifact_prefix="$art/" . 2>&1 | tail -5)
  for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
    [ -e "$f" ] || continue
    cp "$f" "tests/fuzz/regress/$h/"
    echo "fuzz_$h: kept $(basename "$f") as a regression input in tests/fuzz/regress/$h/"
    found=1
  done
done
exit $found
