#!/bin/sh
# Writing a 512x512x300 int16 CT-like volume as .nii.gz: dcmprep (parallel
# libdeflate members) against pigz -6 and gzip -6 compressing the same .nii.
# Then the same for dcmprep-synth's noise-free phantom, half of it long runs
# of air (encoded apart from libdeflate), against pigz -6.
# usage: bench_gz.sh BUILD_DIR
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
py=${DP_PYTHON:-/usr/bin/python3}
work=${BENCH_TMP:-$build/bench-tmp}/gz
mkdir -p "$work"
cli=$build/tools/dcmprep
runs=${BENCH_RUNS:-5}
[ -f "$work/ct.nii" ] || "$py" "$here/ctlike.py" "$work/ct.nii"
command -v pigz >/dev/null || { echo "SKIP: pigz not installed"; exit 0; }
echo "  input: $(du -m "$work/ct.nii" | cut -f1) MiB .nii, $(nproc) cores"
"$py" "$here/timeit.py" "$runs" \
  "dcmprep convert=$cli convert $work/ct.nii -o $work/ours.nii.gz --no-sidecar -q" \
  "pigz -6=pigz -6 -c $work/ct.nii > $work/pigz.nii.gz" \
  "gzip -6=gzip -6 -c $work/ct.nii > $work/gzip.nii.gz"
ours=$(stat -c %s "$work/ours.nii.gz") pz=$(stat -c %s "$work/pigz.nii.gz") gz=$(stat -c %s "$work/gzip.nii.gz")
awk -v o="$ours" -v p="$pz" -v g="$gz" 'BEGIN {
  printf "  size: dcmprep %.1f MiB, pigz -6 %.1f MiB, gzip -6 %.1f MiB; size ratio ours/pigz = %.3f\n",
         o / 1048576, p / 1048576, g / 1048576, o / p }'
# reading it back: dcmprep info (decompress + stats) vs gzip -dc / pigz -dc
"$py" "$here/timeit.py" "$runs" \
  "dcmprep info .nii.gz=$cli info $work/ours.nii.gz" \
  "pigz -dc=pigz -dc $work/ours.nii.gz > /dev/null" \
  "gzip -dc=gzip -dc $work/ours.nii.gz > /dev/null"
# noise-free phantom: long constant runs
synth=$build/tools/synth/dcmprep-synth
if [ -x "$synth" ]; then
  if [ ! -f "$work/phantom.nii" ]; then
    rm -rf "$work/phantom-dcm"
    "$synth" --modality CT --phantom body --rows 512 --cols 512 --pixel-spacing 0.7,0.7 \
      --slices 300 --slice-spacing 1 --ts explicit -o "$work/phantom-dcm" >/dev/null
    rm -rf "$work/phantom-nii"
    "$cli" convert "$work/phantom-dcm" -o "$work/phantom-nii" --no-gz --no-sidecar -q
    mv "$work"/phantom-nii/*.nii "$work/phantom.nii"
    rm -rf "$work/phantom-dcm" "$work/phantom-nii"
  fi
  echo "  noise-free phantom: $(du -m "$work/phantom.nii" | cut -f1) MiB .nii"
  "$py" "$here/timeit.py" "$runs" \
    "dcmprep convert=$cli convert $work/phantom.nii -o $work/ph-ours.nii.gz --no-sidecar -q" \
    "pigz -6=pigz -6 -c $work/phantom.nii > $work/ph-pigz.nii.gz"
  ours=$(stat -c %s "$work/ph-ours.nii.gz") pz=$(stat -c %s "$work/ph-pigz.nii.gz")
  awk -v o="$ours" -v p="$pz" 'BEGIN {
    printf "  size: dcmprep %d B, pigz -6 %d B; size ratio ours/pigz = %.3f\n", o, p, o / p }'
fi
