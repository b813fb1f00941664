#!/bin/sh
# RTSTRUCT rasterisation: 20 ROIs on every slice of a 512x512x140 CT (each
# ROI a square ring with a round island: 3 contours per slice, 8400 in all),
# dcmprep convert against plastimatch convert (--xor-contours, the even-odd
# fill) in the same run, interleaved:
#   - separate masks: dcmprep --labels separate (20 NIfTI + label maps, and
#     the CT) vs plastimatch --output-prefix (20 NIfTI masks);
#   - one label volume: dcmprep --labels multi vs plastimatch --output-labelmap;
#   - dcmprep converting the CT alone, to show what the labels cost.
# usage: bench_labels.sh BUILD_DIR       env: BENCH_RUNS (3), BENCH_TMP
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
py=${DP_PYTHON:-/usr/bin/python3}
runs=${BENCH_RUNS:-3}
work=${BENCH_TMP:-$build/bench-tmp}/labels
cli=$build/tools/dcmprep
synth=$build/tools/synth/dcmprep-synth
command -v plastimatch >/dev/null || { echo "SKIP: plastimatch not installed"; exit 0; }
mkdir -p "$work"
if [ ! -f "$work/exam.done" ]; then
  rm -rf "$work/exam" "$work/ct" && mkdir -p "$work/exam"
  shapes=""
  for r in 0 1 2 3; do
    for c in 0 1 2 3 4; do
      u=$((c * 76 - 152)); v=$((r * 90 - 135)); o=$((30 + (r + c) % 3 * 3))
      shapes="$shapes --shape roi$((r * 5 + c + 1))=nested:$u,$v,0,$o,$((o - 12)),$((o / 3)),110"
    done
  done
  # shellcheck disable=SC2086
  "$synth" --modality CT --phantom body --rows 512 --cols 512 --pixel-spacing 0.8,0.8 --slices 140 \
    --slice-spacing 1.5 --contour-points 96 -o "$work/ct" --rtstruct "$work/exam/rt.dcm" $shapes >/dev/null
  cp -r "$work/ct" "$work/exam/ct"
  touch "$work/exam.done"
fi
e=$work/exam
echo "  $(nproc) cores; CT 512x512x140, RTSTRUCT 20 ROIs x 140 slices x 3 contours; $runs runs, interleaved; medians"
$py "$here/timeit.py" "$runs" \
  "dcmprep --labels separate=rm -rf $work/o1 && $cli convert $e -o $work/o1 -q --labels separate" \
  "plastimatch --output-prefix=rm -rf $work/p1 && plastimatch convert --input $e/rt.dcm --referenced-ct $work/ct --output-prefix $work/p1 --prefix-format nii.gz --xor-contours"
$py "$here/timeit.py" "$runs" \
  "dcmprep --labels multi=rm -rf $work/o2 && $cli convert $e -o $work/o2 -q" \
  "plastimatch --output-labelmap=rm -rf $work/p2 && mkdir $work/p2 && plastimatch convert --input $e/rt.dcm --referenced-ct $work/ct --output-labelmap $work/p2/lab.nii.gz --xor-contours" \
  "dcmprep, the CT alone=rm -rf $work/o3 && $cli convert $work/ct -o $work/o3 -q"
