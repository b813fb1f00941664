#!/bin/sh
# DICOM folder -> NIfTI: dcmprep convert against dcm2niix, on the real
# ct-philips-exam (skipped when ../shared is absent) and on a synthetic
# 512x512x300 CT series from dcmprep-synth.  Per data set: .nii time, .nii.gz
# time and size, dcmprep's peak RSS, and warm-cache `dcmprep scan` ms/file,
# with the targets: .nii time <= 1.0x dcm2niix -z n; .nii.gz time <= 0.5x
# dcm2niix -z y at size <= 1.05x; peak RSS <= (input volume + output) + 10%;
# scan <= 0.3 ms/file.
# usage: bench_convert.sh BUILD_DIR
# env: BENCH_RUNS (3), BENCH_TMP (BUILD_DIR/bench-tmp), DP_SHARED (repo/../shared)
set -eu
build=$1
here=$(cd "$(dirname "$0")" && pwd)
py=${DP_PYTHON:-/usr/bin/python3}
cb="$py $here/convbench.py"
runs=${BENCH_RUNS:-3}
work=${BENCH_TMP:-$build/bench-tmp}/convert
cli=$build/tools/dcmprep
synth=$build/tools/synth/dcmprep-synth
shared=${DP_SHARED:-$here/../../shared}
mkdir -p "$work"
command -v dcm2niix >/dev/null || { echo "SKIP: dcm2niix not installed"; exit 0; }
echo "  $(nproc) cores; $runs timed runs after one warm-up, interleaved; medians"
echo "  dcmprep threads: ${DCMPREP_THREADS:-all cores}; dcm2niix: $(dcm2niix -v 2>&1 | sed -n 's/.*version \(v[^ ]*\).*/\1/p')"

# Which gzip dcm2niix -z y uses (Debian's calls pigz when it is on PATH).
probe=$work/probe
rm -rf "$probe" && mkdir -p "$probe/in" "$probe/out"
"$synth" --rows 16 --cols 16 --slices 2 -o "$probe/in/s" >/dev/null
gzwith=$(dcm2niix -z y -b n -o "$probe/out" "$probe/in" 2>&1 | sed -n 's/^Compress: *"*\([^" ]*\).*/\1/p' | head -n 1)
echo "  dcm2niix -z y compresses with: ${gzwith:-its internal zlib (no pigz found)}"

# bench NAME DIR VOLBYTES [OPTIONS...]
#   Each OPTIONS word (e.g. "--all", "--tilt keep") is one more dcmprep
#   variant timed next to the main pair, for a fair view when the two tools
#   do not convert the same series.
bench() {
  name=$1 dir=$2 vol=$3
  shift 3
  res=$work/$name/results.tsv
  mkdir -p "$work/$name" && rm -f "$res"
  echo "--- $name: .nii (dcmprep --no-gz vs dcm2niix -z n)"
  # --all exits 1 when a listed series cannot be converted (no geometry):
  # tolerated (the ? prefix), the other series are written.
  for v do
    case $v in *--all*) q='?' ;; *) q= ;; esac
    set -- "$@" "dcmprep --no-gz $v=$q$cli convert $dir -o {out} --no-gz -q $v"; shift
  done
  $cb time "$runs" "$res" "dcmprep --no-gz=$cli convert $dir -o {out} --no-gz -q" \
    "dcm2niix -z n=dcm2niix -z n -b n -o {out} $dir" "$@"
  for v do x=${v%%=*}; set -- "$@" "${x#dcmprep --no-gz }"; shift; done  # options again
  for v do
    case $v in *--all*) q='?' ;; *) q= ;; esac
    set -- "$@" "dcmprep .nii.gz $v=$q$cli convert $dir -o {out} -q $v"; shift
  done
  echo "--- $name: .nii.gz (dcmprep vs dcm2niix -z y)"
  $cb time "$runs" "$res" "dcmprep .nii.gz=$cli convert $dir -o {out} -q" \
    "dcm2niix -z y=dcm2niix -z y -b n -o {out} $dir" "$@"
  for v do x=${v%%=*}; set -- "$@" "${x#dcmprep .nii.gz }"; shift; done
  set -- "" "$@"
  for v do
    $cb ratio "$res" "dcmprep --no-gz${v:+ $v}" "dcm2niix -z n" --time-max 1.0 --what ".nii${v:+ $v}"
    $cb ratio "$res" "dcmprep .nii.gz${v:+ $v}" "dcm2niix -z y" --time-max 0.5 --size-max 1.05 \
      --what ".nii.gz${v:+ $v}"
  done
  if [ -n "${same:-}" ]; then
    $cb ratio "$res" "dcmprep .nii.gz --tilt keep" "dcm2niix -z y" --ref-only "$same" \
      --size-max 1.05 --what ".nii.gz same voxels"
  fi
  $cb rss "$res" "dcmprep --no-gz" "$vol"
  $cb rss "$res" "dcmprep .nii.gz" "$vol"
  $cb rss "$res" "dcm2niix -z n" "$vol" | sed 's/: PASS$/ (reference)/; s/: MISS$/ (reference)/'
  awk -F'\t' '{ gsub(/:[0-9]+/, "", $7); printf "  wrote %-30s %s\n", $1 ":", $7 }' "$res"
}

# 1. the real exam
exam=$shared/data/dicom/ct-philips-exam
if [ -d "$exam" ]; then
  echo "=== ct-philips-exam ($(find "$exam" -type f | wc -l) files, $(du -sm "$exam" | cut -f1) MiB)"
  echo "  dcmprep converts the volume series (201, 301; gantry tilt resliced by default);"
  echo "  dcm2niix converts every series (localizer, summaries) and writes each tilted"
  echo "  series twice (as acquired + _Tilt_1 corrected).  Fair views: dcmprep --all,"
  echo "  and the volume series alone (S2010 + S3010) with --tilt keep as a lower bound."
  vol=$($cb volbytes "$cli" "$exam")
  # dcm2niix's outputs as acquired (not _Tilt_1) hold the voxels of --tilt keep
  same='_(201|301)\.nii\.gz$'
  bench philips-exam "$exam" "$vol" --all "--tilt keep"
  vonly=$work/philips-volumes
  rm -rf "$vonly" && mkdir -p "$vonly"
  for s in S2010 S3010; do
    mkdir -p "$vonly/$s"
    for f in "$exam/$s"/I*; do ln -s "$f" "$vonly/$s/"; done
  done
  echo "=== ct-philips-exam, volume series 201 + 301 only ($(find "$vonly" -type l | wc -l) files)"
  bench philips-volumes "$vonly" "$vol" "--tilt keep"
  same=
  $cb scan "$runs" "$cli" "$exam"
else
  echo "=== ct-philips-exam: SKIP ($exam absent; set DP_SHARED)"
fi

# 2. synthetic 512x512x300 CT, explicit VR little endian
syn=$work/synth-ct-512x512x300
if [ ! -f "$syn.done" ]; then
  rm -rf "$syn"
  "$synth" --modality CT --phantom body --rows 512 --cols 512 --pixel-spacing 0.7,0.7 \
    --slices 300 --slice-spacing 1 --ts explicit -o "$syn" >/dev/null
  touch "$syn.done"
fi
echo "=== synthetic CT 512x512x300 ($(find "$syn" -type f | wc -l) files, $(du -sm "$syn" | cut -f1) MiB)"
vol=$($cb volbytes "$cli" "$syn")
bench synth "$syn" "$vol"
$cb scan "$runs" "$cli" "$syn"
