#!/bin/sh
# Quick start: installs what is needed (Debian), builds, and runs the main job
# on the bundled sample (a synthetic CT series generated at build time):
# scan -> convert to NIfTI + JSON sidecar -> prep (reorient, resample, crop
# to the body, CT window; and z-score normalisation) with a before/after
# preview PNG -> the same steps as a pipeline file through batch (run twice:
# the rerun finds everything up to date) -> augment (3 reproducible random
# variants) -> labels: a series with an RT Structure Set, converted to a label
# volume + label map and carried through prep in lockstep -> previews -> the
# same library from Python (numpy views, augmentation variants) -> info.
# usage: tools/quickstart.sh [BUILD_DIR]     (default: build)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
sh tools/deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)"
cli=$build/tools/dcmprep
sample=$build/testdata/ct-body
out=out/quickstart
rm -rf "$out"
mkdir -p "$out"
echo
echo "== dcmprep scan $sample"
"$cli" scan "$sample"
echo
echo "== dcmprep convert $sample -o $out"
"$cli" convert "$sample" -o "$out"
echo
echo "== dcmprep prep: reorient RAS, 2 mm, crop to the body, abdomen window, preview"
"$cli" prep "$sample" -o "$out/ct_ras_2mm_window.nii.gz" --reorient RAS --spacing 2,2,2 \
  --interp linear --crop-foreground=-500 --margin 5 --window abdomen \
  --preview "$out/prep_before_after.png"
echo
echo "== dcmprep prep: the same grid, z-score over the body (voxels above -500 HU)"
"$cli" prep "$sample" -o "$out/ct_ras_2mm_zscore.nii.gz" --reorient RAS --spacing 2,2,2 \
  --crop-foreground=-500 --margin 5 --normalize zscore --mask above:-500
echo
echo "== dcmprep batch: the same steps as a pipeline file, over the series and its NIfTI"
"$cli" prep --reorient RAS --spacing 2,2,2 --crop-foreground=-500 --margin 5 --window abdomen \
  --save-pipeline "$out/ct_pipeline.txt"
cat "$out/ct_pipeline.txt"
"$cli" batch "$sample" "$out"/1_*.nii.gz -o "$out/batch" --pipeline "$out/ct_pipeline.txt"
echo "== dcmprep batch again: everything is up to date (content hash), nothing is redone"
"$cli" batch "$sample" "$out"/1_*.nii.gz -o "$out/batch" --pipeline "$out/ct_pipeline.txt"
echo
labelled=$build/testdata/ct-labels
echo "== labels: $labelled holds a CT series and an RT Structure Set (3 ROIs)"
"$cli" scan "$labelled"
echo "== dcmprep convert: the image, NAME_label.nii.gz on its exact grid, NAME_label.json (label map)"
"$cli" convert "$labelled" -o "$out/labelled"
echo "== dcmprep prep --label auto: the contours drawn on the series' grid, moved with the image"
"$cli" prep "$labelled" -o "$out/labelled_ras_2mm.nii.gz" --label auto \
  --label-out "$out/labelled_ras_2mm_label.nii.gz" --reorient RAS --spacing 2,2,2 \
  --crop-foreground=-500 --margin 5 --window abdomen --preview "$out/labelled_before_after.png"
echo
echo "== dcmprep preview $out/ct_ras_2mm_window.nii.gz"
"$cli" preview "$out/ct_ras_2mm_window.nii.gz" -o "$out/ct_ras_2mm_window.png"
echo
echo "== dcmprep augment: 3 variants (rotate, zoom, shift, elastic, gamma), seed 1"
"$cli" augment "$out/ct_ras_2mm_window.nii.gz" -o "$out/augmented" -n 3 --seed 1 \
  --rand-rotate 10 --rand-zoom 0.9,1.1 --rand-shift 5 --rand-elastic 300,8 --rand-gamma 0.8,1.25
"$cli" preview "$out/augmented/ct_ras_2mm_window_aug000.nii.gz" -o "$out/augmented/aug000.png"
echo
echo "== Python: import dcmprep - volumes as numpy views, a new augmentation variant per call"
PYTHONPATH=$build/python /usr/bin/python3 - "$out" <<'PY'
import sys
import dcmprep
out = sys.argv[1]
ct = dcmprep.load(f"{out}/ct_ras_2mm_window.nii.gz")
print(f"array {ct.array.shape} {ct.array.dtype} (a view of the C buffer), axcodes {ct.axcodes}, "
      f"spacing {tuple(round(s, 3) for s in ct.spacing)}")
aug = dcmprep.Augment(seed=7, steps=["--rand-flip=x", "--rand-rotate", "10", "--rand-zoom", "0.9,1.1"])
for k in range(2):
    x = aug(ct, index=k)  # variant k: the same bytes in any DataLoader worker
    x.save(f"{out}/augmented/python_variant{k}.nii.gz")
    print(f"variant {k}: mean {x.array.mean():.4f}, written {out}/augmented/python_variant{k}.nii.gz")
PY
echo
echo "== dcmprep info"
for f in "$out"/*.nii.gz; do "$cli" info "$f"; echo; done
ls -l "$out/augmented"
echo
echo "Outputs are in $(pwd)/$out:"
ls -l "$out"
