#!/bin/sh
# A cohort (8 synthetic CT series of 512x512x60 to .nii.gz, no pipeline) as a
# Slurm job array (docs/examples/slurm_array.sbatch) on a private single-node
# cluster started for the run, against dcmprep batch -j 2 on the same machine.
# usage: bench_slurm.sh BUILD_DIR       env: BENCH_RUNS (3), BENCH_TMP
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
py=${DP_PYTHON:-/usr/bin/python3}
runs=${BENCH_RUNS:-3}
work=${BENCH_TMP:-$build/bench-tmp}/slurm
synth=$build/tools/synth/dcmprep-synth
command -v sbatch >/dev/null || { echo "SKIP: slurm-wlm not installed"; exit 0; }
mkdir -p "$work"
if [ ! -f "$work/cohort.done" ]; then
  rm -rf "$work/cohort" && mkdir -p "$work/cohort"
  echo "input,output" > "$work/cohort/cohort.csv"
  for i in 1 2 3 4 5 6 7 8; do
    "$synth" --modality CT --phantom body --rows 512 --cols 512 --pixel-spacing 0.7,0.7 \
      --slices 60 --slice-spacing 1.5 --center 0,0,$((i * 7)) -o "$work/cohort/p$i" >/dev/null
    echo "p$i,p$i/ct" >> "$work/cohort/cohort.csv"
  done
  touch "$work/cohort.done"
fi
echo "  8 series of 512x512x60 int16 (.nii.gz out); $runs runs, interleaved; medians"
$py "$here/slurm_bench.py" "$build/tools/dcmprep" "$work/cohort/cohort.csv" "$work/run" "$runs"
