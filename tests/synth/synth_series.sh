#!/bin/sh
# dcmprep-synth writes series that other DICOM tools accept and that hold the
# analytic phantom at every pixel's true world position.
#
# usage: synth_series.sh SYNTH PHANTOM_PY WORKDIR GROUP
#   GROUP ts        every transfer syntax (signed negative values too)
#         geometry  oblique, coronal, sagittal, off-centre, tilt, uneven + drop
#         pixels    signed/unsigned, BitsStored 12, MONOCHROME1, shuffle,
#                   instance order, enhanced, MR, --tag, command-line errors
#         dcm2niix  regular series (axial, oblique, coronal, sagittal, MR,
#                   enhanced, shuffled; uncompressed and compressed) through
#                   dcm2niix, compared with the phantom in world space, and the
#                   left marker on the patient's left (RAS x < 0)
# Every series: dcmdump parses every file and shows the requested transfer
# syntax; pydicom (after dcmdjpeg/dcmdjpls/dcmdrle on a copy of compressed
# files) gives stored * slope + intercept equal, within half a stored step, to
# the phantom at the position computed from the file's own IPP/IOP/spacing.
# Exit 77 (with "SKIP: reason") when a needed tool is missing.
set -u
synth=$1
phantom=$2
work=$3
group=$4
py=${DP_PYTHON:-/usr/bin/python3}

skip() {
  echo "SKIP: $*"
  exit 77
}
[ -x "$synth" ] || skip "$synth not built"
command -v dcmdump >/dev/null 2>&1 || skip "dcmdump not found (install dcmtk)"
"$py" -c 'import numpy, pydicom, nibabel' >/dev/null 2>&1 ||
  skip "$py lacks numpy, pydicom or nibabel (set DP_PYTHON)"
for t in dcmdjpeg dcmdjpls dcmdrle; do
  command -v $t >/dev/null 2>&1 || skip "$t not found (install dcmtk)"
done
if [ "$group" = dcm2niix ]; then
  command -v dcm2niix >/dev/null 2>&1 || skip "dcm2niix not found"
fi

rm -rf "$work"
mkdir -p "$work" || exit 1
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

ts_uid() {
  case $1 in
    implicit) echo 1.2.840.10008.1.2 ;;
    explicit) echo 1.2.840.10008.1.2.1 ;;
    big) echo 1.2.840.10008.1.2.2 ;;
    deflate) echo 1.2.840.10008.1.2.1.99 ;;
    rle) echo 1.2.840.10008.1.2.5 ;;
    jpeg-lossless) echo 1.2.840.10008.1.2.4.57 ;;
    jpeg-lossless-sv1) echo 1.2.840.10008.1.2.4.70 ;;
    jpeg-ls) echo 1.2.840.10008.1.2.4.80 ;;
  esac
}

decoder() {
  case $1 in
    rle) echo dcmdrle ;;
    jpeg-lossless | jpeg-lossless-sv1) echo dcmdjpeg ;;
    jpeg-ls) echo dcmdjpls ;;
    *) echo "" ;;
  esac
}

# series NAME TS [synth options...]: writes WORK/NAME (+ NAME.json) and checks
# every file with dcmdump and, via pydicom, against the phantom.
series() {
  name=$1
  ts=$2
  shift 2
  dir=$work/$name
  if ! "$synth" -o "$dir" --truth "$dir.json" --ts "$ts" "$@" >"$work/$name.log" 2>&1; then
    fail "$name: dcmprep-synth failed: $(cat "$work/$name.log")"
    return
  fi
  uid=$(ts_uid "$ts")
  dec=$(decoder "$ts")
  mkdir -p "$dir.dec"
  n=0
  for f in "$dir"/*; do
    n=$((n + 1))
    base=${f##*/}
    if ! dcmdump "$f" >/dev/null 2>"$work/dump.err"; then
      fail "$name/$base: dcmdump: $(cat "$work/dump.err")"
      continue
    fi
    got=$(dcmdump -Un -s +P TransferSyntaxUID "$f" | sed -n 's/.*UI \[\([0-9.]*\)\].*/\1/p')
    [ "$got" = "$uid" ] || fail "$name/$base: TransferSyntaxUID '$got', want $uid"
    if [ -n "$dec" ]; then
      $dec "$f" "$dir.dec/$base" || fail "$name/$base: $dec failed"
    else
      cp "$f" "$dir.dec/$base"
    fi
  done
  [ "$n" -gt 0 ] || fail "$name: no file written"
  out=$("$py" "$phantom" dicom "$dir.json" "$dir.dec"/* 2>&1) || fail "$name: pixels vs phantom"
  echo "$name ($ts): $out" | tail -n 4
}

# niix NAME [check options...]: converts WORK/NAME with dcm2niix and compares
# the NIfTI with the phantom; for "body" also checks the marker's side.
niix() {
  name=$1
  shift
  out=$work/niix_$name
  mkdir -p "$out"
  if ! dcm2niix -z n -o "$out" "$work/$name" >"$out.log" 2>&1; then
    fail "$name: dcm2niix failed: $(tail -n 3 "$out.log")"
    return
  fi
  nii=$(ls "$out"/*.nii 2>/dev/null | grep -v -e _Tilt_ -e _Eq_ | head -n 1)
  if [ -z "$nii" ]; then
    fail "$name: dcm2niix wrote no NIfTI: $(tail -n 3 "$out.log")"
    return
  fi
  res=$("$py" "$phantom" check "$work/$name.json" "$nii" "$@" 2>&1) || fail "$name: dcm2niix output vs phantom"
  echo "$name (dcm2niix): $res"
  if grep -q '"phantom": "body"' "$work/$name.json"; then
    side=$("$py" - "$nii" <<'EOF'
import sys
import nibabel as nib
import numpy as np
img = nib.load(sys.argv[1])
d = img.get_fdata()
if d.ndim > 3:
    d = d[..., 0]
ijk = np.argwhere(d > 900)
if len(ijk) == 0:
    print("no marker voxel")
    sys.exit(1)
x = (img.affine[:3, :3] @ ijk.mean(axis=0) + img.affine[:3, 3])[0]
print(f"marker centroid RAS x = {x:.2f} mm")
sys.exit(0 if x < -40 else 1)
EOF
)
    [ $? -eq 0 ] || fail "$name: marker not on the patient's left ($side)"
    echo "$name (dcm2niix): $side"
  fi
}

# body phantom, field of view 240 x 200 mm, 120 mm along the stack
body="--rows 40 --cols 48 --pixel-spacing 5,5 --slices 13 --slice-spacing 10"
ramp="--phantom ramp --rows 24 --cols 28 --pixel-spacing 7,7 --slices 9 --slice-spacing 11"
oblique="--iop 0.866025,0.5,0,-0.5,0.866025,0.1"

case $group in
ts)
  for ts in explicit implicit big deflate rle jpeg-lossless jpeg-lossless-sv1 jpeg-ls; do
    series "body_$ts" $ts $body
    # negative stored values through every encoder
    series "signed_$ts" $ts $ramp --rescale 1,0 --signed
  done
  series "unsigned12_jpeg-ls" jpeg-ls $body --unsigned --bits-stored 12
  series "signed12_rle" rle $ramp --rescale 1,0 --signed --bits-stored 12
  series "enhanced_jpeg-lossless" jpeg-lossless $body --enhanced
  ;;
geometry)
  series oblique explicit $ramp $oblique --rescale 0.5,-300
  series oblique_body explicit $body $oblique
  series coronal explicit $body --orientation coronal
  series sagittal explicit $body --orientation sagittal --pixel-spacing 5,4
  series offcentre implicit $ramp --center 30,-20,45 --orientation coronal
  series tilt explicit $body --tilt 15
  series tilt_ramp big $ramp --tilt -20
  series uneven_drop explicit $ramp --uneven 10,10,15,10,20 --drop 2,5
  series uneven_body rle $body --uneven 6,8 --drop 0
  # the positions written are the positions asked for
  "$py" - "$work" <<'EOF' || fail "tilt/uneven positions"
import json, sys
import numpy as np
w = sys.argv[1]
t = json.load(open(w + "/tilt.json"))
p = np.array([s["ipp"] for s in t["slices"]])
step = np.diff(p, axis=0)
assert np.allclose(step, [0, 0, 10], atol=1e-6), step           # along the table (z)
c = np.array(t["iop"][3:])
assert np.allclose(c, [0, np.cos(np.radians(15)), -np.sin(np.radians(15))], atol=1e-9), c
u = json.load(open(w + "/uneven_drop.json"))
pos = [s["position"] for s in u["slices"]]
assert [s["index"] for s in u["slices"]] == [0, 1, 3, 4, 6, 7, 8], u["slices"]
assert np.allclose(pos, [0, 10, 35, 45, 85, 105, 125]), pos
assert not u["regular"]
print("tilt and uneven positions as requested")
EOF
  ;;
pixels)
  series signed explicit $body --signed
  series unsigned explicit $body --unsigned
  series signed12 explicit $body --bits-stored 12
  series unsigned12 explicit $body --unsigned --bits-stored 12
  series signed12_negative explicit $ramp --signed --bits-stored 12 --rescale 1,0
  series clamped explicit $ramp --unsigned --bits-stored 8 --rescale 1,0
  grep -q '"clamped_pixels": 0' "$work/clamped.json" && fail "clamped: truth reports no clamping"
  series mono1 explicit $body --monochrome1
  series shuffled explicit $body --shuffle 42 --instance-order random
  series reverse explicit $body --instance-order reverse
  series enhanced explicit $body --enhanced
  series enhanced_mr_shuffled explicit $body --enhanced --modality MR --shuffle 3
  series mr explicit $body --modality MR
  series mr_rescaled big $ramp --modality MR --rescale 0.5,-500
  series tagged explicit $body --tag "SeriesDescription=../../x" --tag "(0008,0080)=Synth Hospital" \
    --series-number 7 --series-uid 1.2.3.4 --study-uid 1.2.3
  d=$(dcmdump -s +P SeriesDescription "$work/tagged/IM0001.dcm")
  case $d in *"../../x"*) ;; *) fail "--tag not applied: $d" ;; esac
  d=$(dcmdump -s +P 0008,0080 +P SeriesInstanceUID "$work/tagged/IM0001.dcm")
  case $d in *"Synth Hospital"*"1.2.3.4"*) ;; *) fail "--tag (gggg,eeee) / --series-uid: $d" ;; esac
  # shuffled names are not IM*.dcm; reverse instance numbers
  ls "$work/shuffled" | grep -q '^IM' && fail "shuffled: plain names"
  d=$(dcmdump -s +P InstanceNumber "$work/reverse/IM0001.dcm")
  case $d in *"[13]"*) ;; *) fail "reverse: first slice InstanceNumber $d" ;; esac
  # deterministic UIDs: the same options give the same UIDs, in any folder
  "$synth" -o "$work/same1" $body >/dev/null 2>&1 || fail "same1: synth failed"
  "$synth" -o "$work/same2" $body --ts explicit >/dev/null 2>&1 || fail "same2: synth failed"
  a=$(dcmdump -s +P SeriesInstanceUID +P SOPInstanceUID "$work/same1/IM0001.dcm")
  b=$(dcmdump -s +P SeriesInstanceUID +P SOPInstanceUID "$work/same2/IM0001.dcm")
  [ -n "$a" ] && [ "$a" = "$b" ] || fail "UIDs not deterministic: $a / $b"
  # command line: help 0, usage errors 2, run-time errors 1 (with the prefix)
  "$synth" -h >/dev/null 2>&1 || fail "-h does not exit 0"
  for bad in "--rows 0" "--ts jpeg2000" "--iop 1,0,0" "--bogus" "--drop 40" "--modality PET"; do
    # shellcheck disable=SC2086
    "$synth" -o "$work/bad" $bad >/dev/null 2>"$work/bad.err"
    rc=$?
    [ $rc -eq 2 ] || fail "'$bad' exits $rc, want 2"
    grep -q '^dcmprep-synth: ' "$work/bad.err" || fail "'$bad': no 'dcmprep-synth:' message"
  done
  "$synth" -o "$work/bad2" --slices 2 --tag "NoSuchKeyword=1" >/dev/null 2>"$work/bad.err"
  rc=$?
  [ $rc -eq 1 ] || fail "unknown --tag keyword exits $rc, want 1"
  grep -q '^dcmprep-synth: .*NoSuchKeyword' "$work/bad.err" || fail "unknown keyword message: $(cat "$work/bad.err")"
  "$synth" -o "$work/bad3" --iop 1,0,0,1,0,0 >/dev/null 2>&1
  [ $? -eq 2 ] || fail "parallel IOP is not a usage error"
  ;;
dcm2niix)
  tol="--tol 0.51 --min-frac 1"
  for ts in explicit rle jpeg-lossless-sv1 jpeg-lossless; do
    series "axial_$ts" $ts $body
    niix "axial_$ts" $tol
  done
  series oblique_ramp explicit $ramp $oblique --rescale 0.5,-300
  niix oblique_ramp --tol 0.26 --min-frac 1
  series oblique_body jpeg-lossless-sv1 $body $oblique
  niix oblique_body $tol
  for o in coronal sagittal; do
    series "${o}_explicit" explicit $body --orientation $o --pixel-spacing 5,4
    niix "${o}_explicit" $tol
    series "${o}_rle" rle $body --orientation $o
    niix "${o}_rle" $tol
  done
  series mr explicit $body --modality MR
  niix mr $tol
  series shuffled implicit $body --shuffle 5 --instance-order random
  niix shuffled $tol
  series enhanced explicit $body --enhanced
  niix enhanced $tol
  series offcentre big $ramp --center 30,-20,45 --orientation sagittal
  niix offcentre $tol
  ;;
*)
  echo "unknown group '$group'"
  exit 2
  ;;
esac

echo "synth_series $group: $failures failures"
[ $failures -eq 0 ]
