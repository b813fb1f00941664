#!/bin/sh
# Writing a 512x512x300 int16 CT-like volume as .nii.gz: dcmprep (parallel
# libdeflate members) against pigz -6 and gzip -6 compressing the same .nii.
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
