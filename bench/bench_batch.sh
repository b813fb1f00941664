#!/bin/sh
# dcmprep batch over a small cohort of synthetic CT series (8 x 512x512x60,
# .nii.gz), against the usual shell loop of dcm2niix -z y over the same
# folders, in the same run.  Also: the same batch with -j 2, and the rerun
# that finds every item up to date (what a resumed or repeated job costs:
# hashing the inputs).
# usage: bench_batch.sh BUILD_DIR       env: BENCH_RUNS (3), BENCH_TMP
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
py=${DP_PYTHON:-/usr/bin/python3}
runs=${BENCH_RUNS:-3}
work=${BENCH_TMP:-$build/bench-tmp}/batch
cli=$build/tools/dcmprep
synth=$build/tools/synth/dcmprep-synth
command -v dcm2niix >/dev/null || { echo "SKIP: dcm2niix not installed"; exit 0; }
mkdir -p "$work"
if [ ! -f "$work/cohort.done" ]; then
  rm -rf "$work/cohort" && mkdir -p "$work/cohort"
  for i in 1 2 3 4 5 6 7 8; do
    "$synth" --modality CT --phantom body --rows 512 --cols 512 --pixel-spacing 0.7,0.7 \
      --slices 60 --slice-spacing 1.5 --center 0,0,$((i * 7)) -o "$work/cohort/p$i" >/dev/null
  done
  touch "$work/cohort.done"
fi
c=$work/cohort
echo "  $(nproc) cores; 8 series of 512x512x60 int16 (.nii.gz out); $runs runs, interleaved; medians"
loop="for d in $c/p*; do mkdir -p $work/d2n/\$(basename \$d); dcm2niix -z y -b n -o $work/d2n/\$(basename \$d) \$d >/dev/null; done"
$py "$here/timeit.py" "$runs" \
  "dcmprep batch -j 1=rm -rf $work/o1 && $cli batch $c/p* -o $work/o1 -q" \
  "dcm2niix -z y loop=rm -rf $work/d2n && $loop" \
  "dcmprep batch -j 2=rm -rf $work/o2 && $cli batch $c/p* -o $work/o2 -q -j 2"
echo "  rerun with every item up to date (hashing 8 x 30 MiB of input):"
$cli batch $c/p* -o "$work/o3" -q
$py "$here/timeit.py" "$runs" \
  "dcmprep batch, up to date=$cli batch $c/p* -o $work/o3 -q" \
  "dcmprep batch, full run=rm -rf $work/o4 && $cli batch $c/p* -o $work/o4 -q"
